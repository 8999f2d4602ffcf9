import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { opaqueDirs, overlayChanges, upperDirTar } from '../../src/daemon/system/layer-diff.js';
import { applyLayer } from '../../src/daemon/system/layer-extract.js';
import { mountOverlay, unmount } from '../../src/daemon/system/overlay-mount.js';

/** A lower layer, an upper dir changed through a real overlay mount, as a container would. */
async function changedLayer(dir: string): Promise<{ lower: string; upper: string }> {
  const lower = path.join(dir, 'lower');
  const upper = path.join(dir, 'upper');
  const work = path.join(dir, 'work');
  const mnt = path.join(dir, 'mnt');
  for (const d of [lower, upper, work, mnt]) await fsp.mkdir(d, { recursive: true });
  await fsp.mkdir(path.join(lower, 'etc'));
  await fsp.writeFile(path.join(lower, 'etc/group'), 'g');
  await fsp.writeFile(path.join(lower, 'etc/passwd'), 'p');
  await fsp.mkdir(path.join(lower, 'var/spool'), { recursive: true });
  await fsp.writeFile(path.join(lower, 'var/spool/mail'), 'm');
  await fsp.mkdir(path.join(lower, 'same'));
  await mountOverlay({ type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`] }, mnt);
  try {
    await fsp.rm(path.join(mnt, 'etc/group'));
    await fsp.writeFile(path.join(mnt, 'etc/passwd'), 'changed');
    await fsp.writeFile(path.join(mnt, 'etc/new'), 'n');
    await fsp.link(path.join(mnt, 'etc/new'), path.join(mnt, 'etc/new-link'));
    await fsp.rm(path.join(mnt, 'var'), { recursive: true });
    await fsp.mkdir(path.join(mnt, 'var'));
    await fsp.writeFile(path.join(mnt, 'var/fresh'), 'f');
    await fsp.symlink('/etc/passwd', path.join(mnt, 'ln'));
    // What runc leaves behind: empty mount points, never reported.
    await fsp.mkdir(path.join(mnt, 'proc'));
    await fsp.writeFile(path.join(mnt, 'etc/hosts'), '');
  } finally {
    await unmount(mnt);
  }
  return { lower, upper };
}

test('overlayChanges: whiteouts, opaque dirs, additions, modifications; runtime mount points left out', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-diff-'));
  try {
    const { lower, upper } = await changedLayer(dir);
    const changes = await overlayChanges(upper, [lower]);
    const text = changes.map((c) => `${'CAD'[c.Kind]} ${c.Path}`);
    assert.deepEqual(text, ['C /etc', 'D /etc/group', 'A /etc/new', 'A /etc/new-link', 'C /etc/passwd', 'A /ln', 'C /var', 'D /var/spool', 'A /var/fresh']);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('upperDirTar: an OCI layer that applies back to the same filesystem', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-diff-'));
  try {
    const { upper } = await changedLayer(dir);
    const entries: Array<{ name: string; type: string; linkname?: string | null }> = [];
    const extract = tar.extract();
    extract.on('entry', (h, s, next) => {
      entries.push({ name: h.name, type: h.type ?? '', linkname: h.linkname });
      s.resume();
      s.on('end', next);
    });
    const done = new Promise<void>((r) => extract.on('finish', () => r()));
    upperDirTar(upper).pipe(extract);
    await done;
    const names = entries.map((e) => e.name);
    assert.ok(names.includes('etc/.wh.group'));
    assert.ok(names.includes('var/.wh..wh..opq'));
    assert.ok(!names.includes('proc/') && !names.includes('etc/hosts'));
    assert.deepEqual(entries.find((e) => e.name === 'etc/new-link'), { name: 'etc/new-link', type: 'link', linkname: 'etc/new' });
    assert.deepEqual(entries.find((e) => e.name === 'ln'), { name: 'ln', type: 'symlink', linkname: '/etc/passwd' });
    // Unpacked as a snapshot, the layer gives back overlay's own whiteout and opaque markers.
    const target = path.join(dir, 'applied');
    await fsp.mkdir(target);
    await applyLayer(upperDirTar(upper), target);
    assert.equal(await fsp.readFile(path.join(target, 'etc/passwd'), 'utf8'), 'changed');
    const wh = await fsp.lstat(path.join(target, 'etc/group'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'etc/group is a whiteout');
    assert.deepEqual([...(await opaqueDirs(target))], ['/var']);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
