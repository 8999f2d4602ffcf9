import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarString, normalize, parseNormalized, parseReference, looksLikeIdPrefix } from '../../src/common/reference.js';

test('normalises like docker', () => {
  assert.equal(normalize('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalize('user/app:1'), 'docker.io/user/app:1');
  assert.equal(normalize('index.docker.io/busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalize('localhost:5000/x'), 'localhost:5000/x:latest');
  assert.equal(normalize('localhost/x'), 'localhost/x:latest');
  assert.equal(normalize('[::1]:5000/x:2'), '[::1]:5000/x:2');
});

test('familiar strings as docker prints them', () => {
  assert.equal(familiarString('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarString('docker.io/user/app:1'), 'user/app:1');
  assert.equal(familiarString('localhost:5000/x:1'), 'localhost:5000/x:1');
  assert.equal(familiarString('docker.io/library/a/b:1'), 'library/a/b:1');
});

test('parses tags and digests', () => {
  const d = 'sha256:' + 'a'.repeat(64);
  assert.deepEqual(parseNormalized(`busybox:1.36@${d}`), { domain: 'docker.io', path: 'library/busybox', tag: '1.36', digest: d });
  assert.deepEqual(parseReference('library/busybox'), { domain: 'library', path: 'busybox' });
});

test('docker error texts', () => {
  assert.throws(() => parseNormalized('Busybox'), { message: 'invalid reference format: repository name (library/Busybox) must be lowercase' });
  assert.throws(() => parseNormalized('bad::tag'), { message: 'invalid reference format' });
  assert.throws(() => parseNormalized('a'.repeat(64)), { message: `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings` });
  assert.throws(() => parseReference(''), { message: 'repository name must have at least one component' });
  assert.throws(() => parseNormalized('x@sha256:abc'), { message: 'invalid reference format' });
  assert.throws(() => parseNormalized('x/' + 'a'.repeat(260)), { message: 'repository name must not be more than 255 characters' });
});

test('ID prefix detection', () => {
  assert.equal(looksLikeIdPrefix('abc123'), true);
  assert.equal(looksLikeIdPrefix('sha256:abc'), true);
  assert.equal(looksLikeIdPrefix('busybox'), false);
  assert.equal(looksLikeIdPrefix('abc', 12), false);
});
