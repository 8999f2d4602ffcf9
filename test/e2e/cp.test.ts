// docker cp against berthd: copies out of and into running and stopped
// containers, tar streams, and the symlink escapes of CVE-2018-15664 /
// CVE-2019-14271 (a container symlink must resolve inside its own root).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import tar from 'tar-stream';
import { TestDaemon, BERTH, run, until } from '../helpers/daemon.js';

const d = new TestDaemon();
const MARK = `cpmark${randomBytes(4).toString('hex')}`;
// What each container gets: a marker line in its own /etc/passwd, a file, a
// directory tree, a symlink to /etc and one climbing far past the root.
const SETUP = [
  `echo '${MARK}:x:4242:4242::/:/bin/sh' >> /etc/passwd`,
  'echo hello > /f',
  'mkdir -p /d/sub && echo a > /d/a && echo b > /d/sub/b',
  'ln -s /etc /evil',
  'ln -s ../../../../../../.. /up',
  'ln -s /f /lnk',
].join(' && ');

const out = (name: string) => path.join(d.dir, name);

before(async () => {
  await d.start();
  await d.makeBusybox();
  const r1 = await d.berth(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', `${SETUP} && touch /ready && sleep 1000`]);
  assert.equal(r1.code, 0, r1.stderr);
  await until(async () => (await d.berth(['exec', 'live', 'test', '-e', '/ready'])).code === 0, 10_000, 100);
  const r2 = await d.berth(['run', '--name', 'dead', 'busybox', 'sh', '-c', SETUP]);
  assert.equal(r2.code, 0, r2.stderr);
});

after(async () => {
  if (process.env.CP_DEBUG) console.log(d.log.split('\n').filter((l) => !/level=debug/.test(l)).slice(-40).join('\n'));
  await d.cleanup();
});

for (const c of ['live', 'dead']) {
  test(`cp a file and a directory out of a ${c === 'live' ? 'running' : 'stopped'} container`, async () => {
    const dst = out(`${c}-out`);
    fs.mkdirSync(dst);
    let r = await d.berth(['cp', `${c}:/f`, path.join(dst, 'f.txt')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(dst, 'f.txt'), 'utf8'), 'hello\n');
    // A directory into an existing directory lands inside it, with its name.
    r = await d.berth(['cp', `${c}:/d`, dst]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(dst, 'd/sub/b'), 'utf8'), 'b\n');
    // A directory to a new path becomes that path.
    r = await d.berth(['cp', `${c}:/d`, path.join(dst, 'copy')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(dst, 'copy/a'), 'utf8'), 'a\n');
    // "dir/." copies the contents into an existing directory.
    fs.mkdirSync(path.join(dst, 'merged'));
    r = await d.berth(['cp', `${c}:/d/.`, path.join(dst, 'merged')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(path.join(dst, 'merged')).sort(), ['a', 'sub']);
  });

  test(`cp a file and a directory into a ${c === 'live' ? 'running' : 'stopped'} container`, async () => {
    const src = out(`${c}-in`);
    fs.mkdirSync(path.join(src, 'tree/inner'), { recursive: true });
    fs.writeFileSync(path.join(src, 'one.txt'), 'one\n');
    fs.writeFileSync(path.join(src, 'tree/inner/two.txt'), 'two\n');
    let r = await d.berth(['cp', path.join(src, 'one.txt'), `${c}:/tmp/renamed.txt`]);
    assert.equal(r.code, 0, r.stderr);
    r = await d.berth(['cp', path.join(src, 'tree'), `${c}:/tmp`]);
    assert.equal(r.code, 0, r.stderr);
    // Read back through the archive API (works for both states).
    const back = out(`${c}-back`);
    fs.mkdirSync(back);
    r = await d.berth(['cp', `${c}:/tmp/.`, back]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(back, 'renamed.txt'), 'utf8'), 'one\n');
    assert.equal(fs.readFileSync(path.join(back, 'tree/inner/two.txt'), 'utf8'), 'two\n');
  });

  test(`symlinks in a ${c === 'live' ? 'running' : 'stopped'} container resolve inside its root`, async () => {
    // /evil -> /etc: the container's passwd (with our marker), never the host's.
    const pw = out(`${c}-passwd`);
    let r = await d.berth(['cp', `${c}:/evil/passwd`, pw]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(fs.readFileSync(pw, 'utf8'), new RegExp(MARK));
    assert.doesNotMatch(fs.readFileSync('/etc/passwd', 'utf8'), new RegExp(MARK));
    // /up -> ../../../..: writing through it stays in the container's root.
    const name = `berth-cp-escape-${MARK}`;
    fs.writeFileSync(out('payload'), 'payload\n');
    r = await d.berth(['cp', out('payload'), `${c}:/up/${name}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.existsSync(`/${name}`), false, 'the copy escaped to the host root');
    const back = out(`${c}-escape-back`);
    r = await d.berth(['cp', `${c}:/${name}`, back]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(back, 'utf8'), 'payload\n');
  });
}

test('cp -L follows a symlink, without it the link itself is copied', async () => {
  let r = await d.berth(['cp', 'live:/lnk', out('lnk-raw')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readlinkSync(out('lnk-raw')), '/f');
  r = await d.berth(['cp', '-L', 'live:/lnk', out('lnk-followed')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(out('lnk-followed'), 'utf8'), 'hello\n');
});

test('cp streams a tar to stdout and extracts one from stdin', async () => {
  let r = await run('/bin/sh', ['-c', `${process.execPath} ${BERTH} cp live:/d - | /usr/bin/tar -tf -`], { env: d.env, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean).sort(), ['d/', 'd/a', 'd/sub/', 'd/sub/b']);
  const src = out('tarsrc');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'from-tar.txt'), 'tar\n');
  const made = await run('/usr/bin/tar', ['-C', src, '-cf', out('in.tar'), 'from-tar.txt'], { timeoutMs: 10_000 });
  assert.equal(made.code, 0, made.stderr);
  r = await d.berth(['cp', '-', 'live:/tmp'], { input: fs.readFileSync(out('in.tar')) });
  assert.equal(r.code, 0, r.stderr);
  r = await d.berth(['exec', 'live', 'cat', '/tmp/from-tar.txt']);
  assert.equal(r.stdout, 'tar\n');
});

test('cp reports what docker reports', async () => {
  let r = await d.berth(['cp', 'live:/nope', out('nope')]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error response from daemon: Could not find the file /nope in container live\n');
  r = await d.berth(['cp', out('a'), out('b')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /must specify at least one container source/);
  r = await d.berth(['cp', 'live:/f', 'dead:/f']);
  assert.match(r.stderr, /copying between containers is not supported/);
  const api = await d.api('HEAD', `/containers/live/archive?path=${encodeURIComponent('/d')}`);
  assert.equal(api.status, 200);
});

test('the docker CLI copies through berthd', async () => {
  const r = await d.docker(['cp', 'live:/evil/passwd', out('docker-passwd')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(fs.readFileSync(out('docker-passwd'), 'utf8'), new RegExp(MARK));
});

/** A tar built entry by entry, for archives no honest client would send. */
async function makeTar(entries: Array<{ name: string; type?: 'file' | 'symlink' | 'directory'; linkname?: string; body?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: 0o644 }, e.body ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

for (const c of ['live', 'dead']) {
  test(`a hostile archive PUT into a ${c === 'live' ? 'running' : 'stopped'} container stays inside it`, async () => {
    const name = `berth-put-escape-${c}-${MARK}`;
    const put = (p: string, body: Buffer) => d.api('PUT', `/containers/${c}/archive?path=${encodeURIComponent(p)}`, body, { 'Content-Type': 'application/x-tar' });
    // "../" entries are refused.
    let r = await put('/tmp', await makeTar([{ name: `../../../../${name}`, body: 'x' }]));
    assert.equal(r.status, 400, r.body);
    assert.equal(fs.existsSync(`/${name}`), false);
    // A symlink to "/" planted by the archive, then a file through it: lands in the container's root.
    r = await put('/tmp', await makeTar([
      { name: 'root-link', type: 'symlink', linkname: '/' },
      { name: `root-link/${name}`, body: 'inside\n' },
    ]));
    assert.equal(r.status, 200, r.body);
    assert.equal(fs.existsSync(`/${name}`), false, 'the archive escaped to the host root');
    const back = out(`${c}-put-back`);
    const rr = await d.berth(['cp', `${c}:/${name}`, back]);
    assert.equal(rr.code, 0, rr.stderr);
    assert.equal(fs.readFileSync(back, 'utf8'), 'inside\n');
    // The extraction point itself is resolved in the container too: /up/tmp is the container's /tmp.
    r = await put('/up/tmp', await makeTar([{ name: `via-up-${name}`, body: 'up\n' }]));
    assert.equal(r.status, 200, r.body);
    assert.equal(fs.existsSync(`/tmp/via-up-${name}`), false);
    // A file is not an extraction point.
    r = await put('/f', await makeTar([{ name: 'x', body: 'x' }]));
    assert.equal(r.status, 400);
    assert.match(r.body, /not a directory/);
  });
}

test('HEAD answers the X-Docker-Container-Path-Stat header', async () => {
  const head = (p: string) =>
    new Promise<{ status: number; stat?: Record<string, unknown> }>((resolve, reject) => {
      const req = http.request({ socketPath: d.socket, method: 'HEAD', path: `/containers/live/archive?path=${encodeURIComponent(p)}` }, (res) => {
        res.resume();
        const h = res.headers['x-docker-container-path-stat'];
        resolve({ status: res.statusCode ?? 0, stat: typeof h === 'string' ? JSON.parse(Buffer.from(h, 'base64').toString()) : undefined });
      });
      req.on('error', reject);
      req.end();
    });
  const link = await head('/evil');
  assert.equal(link.status, 200);
  assert.equal(link.stat?.name, 'evil');
  assert.equal(link.stat?.linkTarget, '/etc');
  assert.equal(Number(link.stat?.mode) >= 2 ** 27 && Math.floor(Number(link.stat?.mode) / 2 ** 27) % 2, 1, 'ModeSymlink');
  const dir = await head('/d');
  assert.equal(Math.floor(Number(dir.stat?.mode) / 2 ** 31), 1, 'ModeDir');
  assert.equal(Number(dir.stat?.mode) % 0o1000, 0o755);
  assert.equal((await head('/nope')).status, 404);
});

test('cp prints docker\'s summary line when stderr is a terminal', async () => {
  const dst = out('summary.txt');
  const r = await run('/usr/bin/script', ['-qec', `${process.execPath} ${BERTH} cp live:/f ${dst}`, '/dev/null'], { env: d.env, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.replace(/\r/g, ''), `Successfully copied 2.05kB to ${dst}\n`);
});

test('cp -a gives the copy the container user\'s ownership, without it the archive\'s', async () => {
  let r = await d.berth(['run', '-d', '--name', 'owned', '--user', '4242:4343', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
  fs.writeFileSync(out('owned.txt'), 'mine\n');
  r = await d.berth(['cp', '-a', out('owned.txt'), 'owned:/tmp/with-a']);
  assert.equal(r.code, 0, r.stderr);
  r = await d.berth(['cp', out('owned.txt'), 'owned:/tmp/without-a']);
  assert.equal(r.code, 0, r.stderr);
  r = await d.berth(['exec', 'owned', 'stat', '-c', '%n %u:%g', '/tmp/with-a', '/tmp/without-a']);
  const st = fs.statSync(out('owned.txt'));
  assert.equal(r.stdout, `/tmp/with-a 4242:4343\n/tmp/without-a ${st.uid}:${st.gid}\n`);
});
