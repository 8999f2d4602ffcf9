import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKeyValueText, validateEnv } from '../../src/cli/envfile.js';
import { parseDetachKeys } from '../../src/cli/containerio.js';

test('env files: comments, blanks, leading space trimmed, values verbatim, bare names from the environment', () => {
  const text = '\uFEFF# c\n\n  A=1 \nB="q"\nSET\nUNSET\nC=x=y\r\n';
  assert.deepEqual(parseKeyValueText(text, 'f', (k) => (k === 'SET' ? 'v' : undefined)), ['A=1 ', 'B="q"', 'SET=v', 'C=x=y']);
});

test('env files: docker\'s errors for bad names', () => {
  assert.throws(() => parseKeyValueText('A B=1\n', 'f', () => undefined), /^Error: poorly formatted environment: variable 'A B' contains whitespaces$/);
  assert.throws(() => parseKeyValueText('=1\n', 'f', () => undefined), /no variable name on line '=1'/);
});

test('-e NAME takes the value from the environment or is sent bare', () => {
  assert.equal(validateEnv('X', { X: '1' }), 'X=1');
  assert.equal(validateEnv('Y', {}), 'Y');
  assert.equal(validateEnv('Z=2', {}), 'Z=2');
  assert.throws(() => validateEnv('=2', {}), /invalid environment variable: =2/);
});

test('detach keys', () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
  assert.deepEqual(parseDetachKeys('a,ctrl-['), [97, 27]);
  assert.throws(() => parseDetachKeys('ctrl-pp'), /Invalid detach keys \(ctrl-pp\) provided/);
});
