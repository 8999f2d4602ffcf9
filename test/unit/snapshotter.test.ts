import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Snapshotter } from '../../src/daemon/stores/snapshotter.js';
import { mountOverlay, unmount } from '../../src/daemon/system/overlay-mount.js';

test('stacks committed layers under a container snapshot; usage, remove, restart, failed fill leaves nothing', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-snap-'));
  const mnt = path.join(dir, 'mnt');
  try {
    const s = new Snapshotter(path.join(dir, 's'));
    await s.init();
    await s.commitFrom('l1', undefined, async (d) => { await fsp.writeFile(path.join(d, 'a'), 'from l1'); return { size: 7 }; });
    await s.commitFrom('l2', 'l1', async (d) => { await fsp.writeFile(path.join(d, 'b'), 'from l2'); return { size: 7 }; });
    await assert.rejects(s.commitFrom('bad', undefined, async () => { throw new Error('boom'); }));
    assert.equal(s.has('bad'), false);
    const spec = await s.prepare('c', 'l2');
    assert.deepEqual(spec.options.map((o) => o.split('=')[0]), ['lowerdir', 'upperdir', 'workdir']);
    await mountOverlay(spec, mnt);
    try {
      assert.equal(await fsp.readFile(path.join(mnt, 'a'), 'utf8'), 'from l1');
      assert.equal(await fsp.readFile(path.join(mnt, 'b'), 'utf8'), 'from l2');
      await fsp.writeFile(path.join(mnt, 'c'), 'abc');
    } finally {
      await unmount(mnt);
    }
    assert.equal(await s.usage('c'), 3);
    await assert.rejects(s.remove('l2'), /dependent/);
    const s2 = new Snapshotter(path.join(dir, 's'));
    await s2.init();
    assert.deepEqual(s2.list().sort(), ['c', 'l1', 'l2']);
    assert.equal(await fsp.readFile(path.join(s2.upperDir('c'), 'c'), 'utf8'), 'abc');
    await s2.remove('c');
    await s2.remove('l2');
    assert.deepEqual(s2.list(), ['l1']);
    await assert.rejects(mountOverlay({ type: 'overlay', source: 'overlay', options: ['lowerdir=/nonexistent-berth'] }, mnt), /mount overlay/);
  } finally {
    await unmount(mnt).catch(() => {});
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
