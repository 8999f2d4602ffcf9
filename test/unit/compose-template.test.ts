import { test } from 'node:test';
import assert from 'node:assert/strict';
import { substitute } from '../../src/compose/loader/template.js';
import { parseDotEnv } from '../../src/compose/loader/dotenv.js';

const env: Record<string, string> = { A: 'a', EMPTY: '', B: 'b' };
const look = (k: string): string | undefined => env[k];

test('interpolation: plain, braced, escapes', () => {
  assert.equal(substitute('$A-${A}-$$A-$$', look), 'a-a-$A-$');
  assert.equal(substitute('x$UNSET.y', look), 'x.y');
  assert.equal(substitute('cost: $5 and $', look), 'cost: $5 and $');
});

test('interpolation: defaults and alternatives, set vs empty', () => {
  assert.equal(substitute('${UNSET:-d}|${EMPTY:-d}|${A:-d}', look), 'd|d|a');
  assert.equal(substitute('${UNSET-d}|${EMPTY-d}|${A-d}', look), 'd||a');
  assert.equal(substitute('${UNSET:+x}|${EMPTY:+x}|${A:+x}', look), '||x');
  assert.equal(substitute('${UNSET+x}|${EMPTY+x}|${A+x}', look), '|x|x');
  assert.equal(substitute('${UNSET:-}', look), '');
});

test('interpolation: nested defaults', () => {
  assert.equal(substitute('${X:-${Y:-c}}', look), 'c');
  assert.equal(substitute('${X:-${B:-c}}', look), 'b');
  assert.equal(substitute('${X:-pre-${A}-post}', look), 'pre-a-post');
  assert.equal(substitute('${A:-${MISSING:?never evaluated}}', look), 'a');
});

test('interpolation: required variables with compose\'s error text', () => {
  assert.throws(() => substitute('${NOPE:?please set NOPE}', look), { message: 'required variable NOPE is missing a value: please set NOPE' });
  assert.throws(() => substitute('${EMPTY:?err}', look), { message: 'required variable EMPTY is missing a value: err' });
  assert.equal(substitute('${EMPTY?err}', look), '');
  assert.throws(() => substitute('${NOPE?}', look), { message: 'required variable NOPE is missing a value' });
  assert.equal(substitute('${A:?x}', look), 'a');
});

test('interpolation: invalid templates', () => {
  for (const bad of ['${}', '${ A}', '${A', '${A:x}', '${1A}']) {
    assert.throws(() => substitute(bad, look), { name: 'Error', message: /^Invalid template/ }, bad);
  }
});

test('dotenv: quotes, escapes, export, comments, multi-line', () => {
  const text = [
    '# comment',
    'export A=1',
    'B = spaced value  # inline comment',
    "C='single $A \\n kept'",
    'D="double\\tq \\"x\\" $A \\$A"',
    'E="line1',
    'line2"',
    'F=no#comment',
    'G=${A}-${UNSET:-def}',
    'H=',
    'I: colon',
    '',
  ].join('\n');
  assert.deepEqual(parseDotEnv(text), {
    A: '1',
    B: 'spaced value',
    C: 'single $A \\n kept',
    D: 'double\tq "x" 1 $A',
    E: 'line1\nline2',
    F: 'no#comment',
    G: '1-def',
    H: '',
    I: 'colon',
  });
});

test('dotenv: the process environment answers expansions first, bare names come from it', () => {
  const got = parseDotEnv('A=file\nB=${A}\nC\nD\n', (k) => ({ A: 'proc', C: 'fromenv' } as Record<string, string>)[k]);
  assert.deepEqual(got, { A: 'file', B: 'proc', C: 'fromenv' });
});

test('dotenv: unterminated quote is an error', () => {
  assert.throws(() => parseDotEnv('A="open\n'), /unterminated quoted value/);
});
