import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readJsonFile, writeFileAtomic, removeStaleTemps } from '../../src/daemon/stores/atomic-file.js';

test('writes atomically, replaces, leaves no temp files, reads back JSON', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-atomic-'));
  try {
    const f = path.join(dir, 'sub', 'state.json');
    assert.equal(await readJsonFile(f), undefined);
    await writeFileAtomic(f, JSON.stringify({ a: 1 }));
    await writeFileAtomic(f, JSON.stringify({ a: 2 }));
    assert.deepEqual(await readJsonFile(f), { a: 2 });
    assert.deepEqual(await fsp.readdir(path.join(dir, 'sub')), ['state.json']);
    await fsp.writeFile(path.join(dir, 'sub', '.state.json.tmp-0123456789ab'), 'torn');
    await removeStaleTemps(path.join(dir, 'sub'));
    assert.deepEqual(await fsp.readdir(path.join(dir, 'sub')), ['state.json']);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
