import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tar from 'tar-stream';
import { TestDaemon } from '../helpers/daemon.js';

const d = new TestDaemon();

before(async () => {
  await d.start();
  await d.makeBusybox();
});

after(async () => {
  await d.cleanup();
});

async function tarOf(entries: Array<{ name: string; type?: 'file' | 'symlink' | 'directory' | 'link'; body?: string; linkname?: string; mode?: number }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.mode ?? 0o644 }, e.body ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

test('images lists busybox with docker\'s columns; inspect and history work', async () => {
  const ls = await d.berth(['images']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
  assert.match(ls.stdout, /^busybox\s+latest\s+[0-9a-f]{12}\s+/m);
  const id = (await d.berth(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const cmd = await d.berth(['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'busybox']);
  assert.equal(cmd.stdout, '["sh"]\n');
  const h = await d.berth(['history', 'busybox']);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n/);
  const q = await d.berth(['images', '-q']);
  assert.ok(q.stdout.split('\n').includes(id.slice(7, 19)));
});

test('tag, then rmi untags; removing an image in use needs force', async () => {
  assert.equal((await d.berth(['tag', 'busybox', 'mybox:v1'])).code, 0);
  assert.match((await d.berth(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, /^mybox:v1$/m);
  const un = await d.berth(['rmi', 'mybox:v1']);
  assert.equal(un.stdout, 'Untagged: mybox:v1\n');
  await d.berth(['create', '--name', 'user-of-img', 'busybox', 'true']);
  const inUse = await d.berth(['rmi', 'busybox']);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /conflict: unable to remove repository reference "busybox" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/);
  assert.equal((await d.berth(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).code, 0);
  await d.berth(['rm', 'user-of-img']);
  const missing = await d.berth(['rmi', 'nosuch:tag']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such image: nosuch:tag/);
});

test('save | load round-trips an image, to a file and through stdin', async () => {
  const id = (await d.berth(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
  const file = path.join(d.dir, 'busybox.tar');
  const s = await d.berth(['save', '-o', file, 'busybox']);
  assert.equal(s.code, 0, s.stderr);
  assert.ok(fs.statSync(file).size > 500_000);
  await d.berth(['tag', 'busybox', 'copy:1']);
  await d.berth(['rmi', 'copy:1']);
  const l = await d.berth(['load', '-i', file]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /Loaded image: busybox:latest/);
  const l2 = await d.berth(['load'], { input: fs.readFileSync(file) });
  assert.match(l2.stdout, /Loaded image: busybox:latest/);
  assert.equal((await d.berth(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim(), id);
  const r = await d.berth(['run', '--rm', 'busybox', 'echo', 'loaded ok']);
  assert.equal(r.stdout, 'loaded ok\n');
});

test('import of a tar with ../ entries or escaping symlinks writes nothing outside the snapshot', async () => {
  const marker = path.join(d.dir, 'escaped');
  const evil = await tarOf([
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: '../../../../../../..' + marker, body: 'pwned' },
    { name: 'link', type: 'symlink', linkname: d.dir },
    { name: 'link/escaped', body: 'pwned' },
    { name: 'abs', type: 'symlink', linkname: '/' },
    { name: 'abs' + marker, body: 'pwned' },
  ]);
  const r = await d.berth(['import', '-', 'evil:1'], { input: evil });
  assert.ok(!fs.existsSync(marker), 'nothing written outside the rootfs');
  if (r.code === 0) {
    // Accepted with the escapes confined: the image must not reach the host either.
    const c = await d.berth(['run', '--rm', 'evil:1', '/bin/true']);
    assert.ok(!fs.existsSync(marker));
    void c;
  } else {
    assert.match(r.stderr, /Error response from daemon: .+/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'a one-line error');
    const ls = await d.berth(['images', '--format', '{{.Repository}}']);
    assert.ok(!ls.stdout.split('\n').includes('evil'));
  }
});

test('import applies --change and --message, and an import from a file works', async () => {
  const t = await tarOf([{ name: 'hello.txt', body: 'hi\n' }]);
  const file = path.join(d.dir, 'small.tar');
  fs.writeFileSync(file, t);
  const r = await d.berth(['import', '-c', 'ENV A=b', '-c', 'WORKDIR /srv', '-m', 'tiny', file, 'tiny:1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const env = await d.berth(['image', 'inspect', '-f', '{{json .Config.Env}} {{.Config.WorkingDir}} {{.Comment}}', 'tiny:1']);
  assert.equal(env.stdout, '["A=b"] /srv tiny\n');
  const bad = await d.berth(['import', '-c', 'RUN echo no', file, 'tiny:2']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /run is not a valid change command/, 'moby lowercases the instruction in this message');
});
