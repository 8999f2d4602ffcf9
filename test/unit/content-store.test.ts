import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore, DigestMismatchError, sha256 } from '../../src/daemon/stores/content-store.js';

test('put/ingest by digest; a wrong expected digest commits nothing', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-content-'));
  try {
    const cs = new ContentStore(dir);
    await cs.init();
    const { digest, size } = await cs.put('hello');
    assert.equal(digest, sha256('hello'));
    assert.equal(size, 5);
    assert.equal(await cs.has(digest), true);
    assert.equal((await cs.read(digest)).toString(), 'hello');
    await cs.put('{"x":1}');
    assert.deepEqual(await cs.readJson(sha256('{"x":1}')), { x: 1 });
    const wrong = sha256('other');
    await assert.rejects(cs.ingest(Readable.from([Buffer.from('evil')]), wrong), DigestMismatchError);
    assert.equal(await cs.has(wrong), false);
    assert.equal(await cs.has(sha256('evil')), false);
    assert.deepEqual(await fsp.readdir(path.join(dir, 'ingest')), []);
    assert.throws(() => cs.path('sha256:../../etc'), /invalid digest/);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
