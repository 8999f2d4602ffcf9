// How the archive API splits a container path (dockerd's ResolvePath) and
// encodes file modes (Go's os.FileMode) for X-Docker-Container-Path-Stat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { goFileMode, splitContainerPath } from '../../src/daemon/services/archive-service.js';

test('splitContainerPath keeps the last component unresolved unless the path ends in / or /.', () => {
  assert.deepEqual(splitContainerPath('/evil/passwd'), { abs: '/evil/passwd', dir: '/evil', base: 'passwd', name: 'passwd' });
  assert.deepEqual(splitContainerPath('etc/../x'), { abs: '/x', dir: '/', base: 'x', name: 'x' });
  assert.deepEqual(splitContainerPath('/d/.'), { abs: '/d/.', dir: '/d', name: '.' });
  assert.deepEqual(splitContainerPath('/d/'), { abs: '/d/', dir: '/d', name: 'd' });
  assert.deepEqual(splitContainerPath('/'), { abs: '/', dir: '/', name: '/' });
  assert.deepEqual(splitContainerPath('/../../..'), { abs: '/', dir: '/', name: '/' });
});

test('goFileMode sets Go\'s type bits', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gfm-'));
  fs.chmodSync(dir, 0o755);
  fs.symlinkSync('/etc', path.join(dir, 'l'));
  assert.equal(goFileMode(fs.lstatSync(dir)), 2 ** 31 + 0o755);
  assert.equal(goFileMode(fs.lstatSync(path.join(dir, 'l'))), 2 ** 27 + 0o777);
  assert.equal(goFileMode(fs.statSync('/dev/null')), 2 ** 26 + 2 ** 21 + 0o666);
  fs.rmSync(dir, { recursive: true });
});
