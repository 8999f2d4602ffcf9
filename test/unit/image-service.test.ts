import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { layout, defaultConfig } from '../../src/daemon/config.js';
import { ImageService } from '../../src/daemon/services/image-service.js';
import { mountOverlay, unmount, isMounted } from '../../src/daemon/system/overlay-mount.js';
import { ApiError } from '../../src/daemon/errors.js';

async function busyboxTar(): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of pack) chunks.push(c as Buffer); })();
  const add = (h: any, body?: Buffer) => new Promise<void>((res, rej) => pack.entry(h, body ?? '', (e) => (e ? rej(e) : res())));
  await add({ name: 'bin/', type: 'directory', mode: 0o755 });
  await add({ name: 'bin/busybox', mode: 0o755 }, readFileSync('/bin/busybox'));
  for (const a of ['sh', 'ls', 'cat', 'echo']) await add({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' });
  await add({ name: 'etc/', type: 'directory', mode: 0o755 });
  await add({ name: 'etc/hostname', mode: 0o644 }, Buffer.from('box\n'));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function withService<T>(fn: (svc: ImageService, root: string) => Promise<T>): Promise<T> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-img-'));
  try {
    const svc = new ImageService(layout({ ...defaultConfig(), dataRoot: root, execRoot: path.join(root, 'run') }));
    await svc.init();
    return await fn(svc, root);
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
}

const collect = async (r: Readable) => { const c: Buffer[] = []; for await (const x of r) c.push(x as Buffer); return Buffer.concat(c); };

test('import → resolve → container rootfs → mount shows bin/sh; save → load elsewhere gives the same image ID', async () => {
  const bb = await busyboxTar();
  await withService(async (svc, root) => {
    const rec = await svc.importTar(Readable.from([bb]), { repo: 'busybox', changes: ['CMD ["sh"]'] });
    assert.match(rec.id, /^sha256:[a-f0-9]{64}$/);
    assert.deepEqual(rec.repoTags, ['busybox:latest']);
    assert.deepEqual(rec.config.config.Cmd, ['sh']);
    assert.equal(rec.config.history[0].comment, 'Imported from -');
    assert.equal((await svc.resolve('busybox')).id, rec.id);
    assert.equal((await svc.resolve('docker.io/library/busybox:latest')).id, rec.id);
    assert.equal((await svc.resolve(rec.id.slice(7, 19))).id, rec.id);

    const spec = await svc.rootfsForContainer(rec.id, 'c1');
    assert.equal(spec.type, 'overlay');
    const target = path.join(root, 'mnt');
    await mountOverlay(spec, target);
    try {
      assert.equal(await fsp.readlink(path.join(target, 'bin/sh')), 'busybox');
      await fsp.writeFile(path.join(target, 'new-file'), '12345');
    } finally {
      await unmount(target);
    }
    assert.equal(await isMounted(target), false);
    assert.equal(await svc.containerRootfsSize('c1'), 5);
    await svc.removeContainerRootfs('c1');

    const out = new PassThrough();
    const [archive] = await Promise.all([collect(out), svc.save(['busybox'], out)]);

    await withService(async (svc2) => {
      const lines: any[] = [];
      await svc2.load(Readable.from([archive]), (l) => lines.push(l));
      assert.deepEqual(lines, [{ stream: 'Loaded image: busybox:latest\n' }]);
      const loaded = await svc2.resolve('busybox:latest');
      assert.equal(loaded.id, rec.id);
      const spec2 = await svc2.rootfsForContainer(loaded.id, 'c2');
      assert.ok(spec2.options[0]!.startsWith('lowerdir='));
    });
  });
});

test('a zero-layer image still gets a valid lowerdir; empty tar imports', async () => {
  await withService(async (svc, root) => {
    const empty = Buffer.alloc(1024);
    const rec = await svc.importTar(Readable.from([empty]), {});
    assert.deepEqual(rec.repoTags, []);
    const spec = await svc.rootfsForContainer(rec.id, 'c0');
    const target = path.join(root, 'm0');
    await mountOverlay(spec, target);
    await unmount(target);
  });
});

test('resolve and rmi speak docker: texts, conflicts, untag vs delete', async () => {
  const bb = await busyboxTar();
  await withService(async (svc) => {
    await assert.rejects(svc.resolve('nothere'), (e: ApiError) => e.status === 404 && e.message === 'No such image: nothere:latest');
    await assert.rejects(svc.resolve('Busybox'), (e: ApiError) => e.status === 400 && e.message === 'invalid reference format: repository name (library/Busybox) must be lowercase');
    const rec = await svc.importTar(Readable.from([bb]), { repo: 'busybox', tag: '1', message: 'hi' });
    assert.equal(rec.config.history[0].comment, 'hi');
    await svc.tag('busybox:1', 'localhost:5000/x', 'v2');
    assert.deepEqual((await svc.resolve('localhost:5000/x:v2')).repoTags.sort(), ['busybox:1', 'localhost:5000/x:v2']);
    const short = rec.id.slice(7, 19);
    await assert.rejects(svc.remove(short, { force: false, noprune: false }), (e: ApiError) => e.status === 409 && e.message === `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);

    // As moby: with other references left, a used image's tag can still go; the last one is guarded.
    svc.setUsageCheck((id) => (id === rec.id ? ['abcdef0123456789abcdef'] : []));
    assert.deepEqual(await svc.remove('busybox:1', { force: false, noprune: false }), [{ Untagged: 'busybox:1' }]);
    await assert.rejects(svc.remove('localhost:5000/x:v2', { force: false, noprune: false }), (e: ApiError) => e.status === 409 && e.message === `conflict: unable to remove repository reference "localhost:5000/x:v2" (must force) - container abcdef012345 is using its referenced image ${short}`);
    svc.setUsageCheck(() => []);

    const res = await svc.remove('localhost:5000/x:v2', { force: false, noprune: false });
    assert.deepEqual(res.slice(0, 2), [{ Untagged: 'localhost:5000/x:v2' }, { Deleted: rec.id }]);
    assert.ok(res.some((r) => r.Deleted === rec.config.rootfs.diff_ids[0]));
    await assert.rejects(svc.resolve(rec.id), (e: ApiError) => e.status === 404);
    assert.deepEqual(svc.snapshots.list(), []);
    assert.equal(existsSync(svc.content.path(rec.id)), false);
  });
});

test('import changes: valid instructions shape the config, others are refused with docker text', async () => {
  await withService(async (svc) => {
    const empty = Buffer.alloc(1024);
    const rec = await svc.importTar(Readable.from([empty]), { repo: 'x', changes: ['ENV A=1 B="two words"', 'EXPOSE 80 53/udp', 'LABEL k=v', 'WORKDIR /app', 'USER nobody', 'ENTRYPOINT echo hi', 'VOLUME ["/data"]'] });
    const c = rec.config.config;
    assert.deepEqual(c.Env, ['A=1', 'B=two words']);
    assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
    assert.deepEqual(c.Labels, { k: 'v' });
    assert.equal(c.WorkingDir, '/app');
    assert.equal(c.User, 'nobody');
    assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', 'echo hi']);
    assert.deepEqual(c.Volumes, { '/data': {} });
    await assert.rejects(svc.importTar(Readable.from([empty]), { changes: ['RUN true'] }), (e: ApiError) => e.status === 400 && e.message === 'run is not a valid change command');

    const list = await svc.list({ filters: new Map([['label', ['k=v']]]) });
    assert.deepEqual(list.map((r) => r.id), [rec.id]);
    assert.equal((await svc.list({ filters: new Map([['reference', ['y*']]]) })).length, 0);
    assert.equal((await svc.list({ filters: new Map([['reference', ['x']]]) })).length, 1);
    await assert.rejects(svc.list({ filters: new Map([['bogus', ['1']]]) }), (e: ApiError) => e.status === 400 && e.message === "invalid filter 'bogus'");
    const s = svc.summary(rec);
    assert.deepEqual(s.RepoTags, ['x:latest']);
    assert.equal(s.Containers, -1);
    const h = await svc.history('x');
    assert.equal(h[0].Id, rec.id);
    assert.deepEqual(h[0].Tags, ['x:latest']);
    const ins = await svc.inspect('x');
    assert.equal(ins.GraphDriver.Name, 'overlay2');
    assert.deepEqual(ins.RootFS.Layers, rec.config.rootfs.diff_ids);
  });
});
