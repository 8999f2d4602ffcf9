import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { TestDaemon, BERTH } from '../helpers/daemon.js';
import { inPty } from '../helpers/pty.js';
import { TestRegistry } from '../helpers/registry.js';

const d = new TestDaemon();
const open = new TestRegistry(path.join(d.dir, 'reg-open'));
const locked = new TestRegistry(path.join(d.dir, 'reg-auth'), { alice: 'secret' });
const servers: http.Server[] = [];

before(async () => {
  await Promise.all([d.start(['--max-download-attempts', '1']).then(() => d.makeBusybox()), open.start(), locked.start()]);
});

after(async () => {
  for (const s of servers) s.close();
  await Promise.all([open.stop(), locked.stop()]);
  await d.cleanup();
});

const snapshotCount = () => fs.readdirSync(path.join(d.dataRoot, 'snapshots')).filter((n) => /^\d+$/.test(n)).length;

test('berth: push, push again, rmi, pull, run from a loopback registry', async () => {
  const ref = `${open.host}/test/box:1`;
  assert.equal((await d.berth(['tag', 'busybox', ref])).code, 0);
  const p1 = await d.berth(['push', ref]);
  assert.equal(p1.code, 0, p1.stderr);
  assert.match(p1.stdout, new RegExp(`^The push refers to repository \\[${open.host}/test/box\\]\\n`));
  assert.match(p1.stdout, /^[0-9a-f]{12}: Preparing$/m);
  assert.match(p1.stdout, /^[0-9a-f]{12}: Pushed$/m);
  const dm = /^1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(p1.stdout);
  assert.ok(dm, p1.stdout);

  const p2 = await d.berth(['push', ref]);
  assert.equal(p2.code, 0, p2.stderr);
  assert.match(p2.stdout, /^[0-9a-f]{12}: Layer already exists$/m);
  assert.ok(p2.stdout.includes(`1: digest: ${dm[1]}`));

  const digests = await d.berth(['image', 'inspect', '-f', '{{json .RepoDigests}}', ref]);
  assert.deepEqual(JSON.parse(digests.stdout), [`${open.host}/test/box@${dm[1]}`]);

  assert.equal((await d.berth(['rmi', ref])).code, 0);
  const pl = await d.berth(['pull', ref]);
  assert.equal(pl.code, 0, pl.stderr);
  assert.match(pl.stdout, /^1: Pulling from test\/box$/m);
  assert.match(pl.stdout, /^[0-9a-f]{12}: (Pull complete|Already exists)$/m);
  assert.ok(pl.stdout.includes(`Digest: ${dm[1]}\n`));
  assert.ok(pl.stdout.endsWith(`Status: Downloaded newer image for ${ref}\n${ref}\n`), pl.stdout);

  const again = await d.berth(['pull', '-q', ref]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, `${ref}\n`);

  const byDigest = await d.berth(['pull', `${open.host}/test/box@${dm[1]}`]);
  assert.equal(byDigest.code, 0, byDigest.stderr);
  assert.match(byDigest.stdout, new RegExp(`^${dm[1]}: Pulling from test/box$`, 'm'));

  const run = await d.berth(['run', '--rm', ref, 'echo', 'pulled']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'pulled\n');
});

test('docker CLI against berthd: push, rmi, pull; run pulls a missing image', async () => {
  const ref = `${open.host}/test/box:docker`;
  assert.equal((await d.docker(['tag', 'busybox', ref])).code, 0);
  const p = await d.docker(['push', ref]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /^docker: digest: sha256:[0-9a-f]{64} size: \d+$/m);
  assert.equal((await d.docker(['rmi', ref])).code, 0);
  const pl = await d.docker(['pull', ref]);
  assert.equal(pl.code, 0, pl.stderr);
  assert.match(pl.stdout, /Status: (Downloaded newer image|Image is up to date) for /);
  assert.equal((await d.docker(['rmi', ref])).code, 0);

  const run = await d.berth(['run', '--rm', ref, 'echo', 'auto']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'auto\n');
  assert.match(run.stderr, new RegExp(`^Unable to find image '${ref}' locally\\n`));
  assert.equal((await d.berth(['rmi', ref])).code, 0);
  const drun = await d.docker(['run', '--rm', ref, 'echo', 'docker-run']);
  assert.equal(drun.code, 0, drun.stderr);
  assert.equal(drun.stdout, 'docker-run\n');
  assert.match(drun.stderr, /Unable to find image/);

  const all = await d.berth(['pull', '-a', `${open.host}/test/box`]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^1: Pulling from test\/box$/m);
  assert.match(all.stdout, /^docker: Pulling from test\/box$/m);
  assert.ok(all.stdout.endsWith(`for ${open.host}/test/box\n${open.host}/test/box\n`), all.stdout);
  const tags = await d.berth(['images', '--format', '{{.Tag}}', `${open.host}/test/box`]);
  assert.deepEqual(tags.stdout.trim().split('\n').sort(), ['1', 'docker']);

  const missing = await d.berth(['pull', `${open.host}/test/nope:1`]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `Error response from daemon: manifest for ${open.host}/test/nope:1 not found: manifest unknown: manifest unknown\n`);
});

test('basic-auth registry: push needs login; login, push, logout', async () => {
  const ref = `${locked.host}/test/box:1`;
  assert.equal((await d.berth(['tag', 'busybox', ref])).code, 0);
  const denied = await d.berth(['push', ref]);
  assert.equal(denied.code, 1);
  assert.equal(denied.stderr, 'no basic auth credentials\n');

  const pullDenied = await d.berth(['pull', ref]);
  assert.equal(pullDenied.code, 1);
  assert.equal(pullDenied.stderr, `Error response from daemon: Head "http://${locked.host}/v2/test/box/manifests/1": no basic auth credentials\n`);

  const bad = await d.berth(['login', '-u', 'alice', '-p', 'wrong', locked.host]);
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    `WARNING! Using --password via the CLI is insecure. Use --password-stdin.\nError response from daemon: login attempt to http://${locked.host}/v2/ failed with status: 401 Unauthorized\n`,
  );

  const ok = await d.berth(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 'secret\n' });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'Login Succeeded\n');
  const cfgFile = path.join(d.env.DOCKER_CONFIG!, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  assert.deepEqual(cfg.auths[locked.host], { auth: Buffer.from('alice:secret').toString('base64') });

  const pushed = await d.berth(['push', ref]);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stdout, /^1: digest: sha256:[0-9a-f]{64} size: \d+$/m);

  // The docker CLI reads the same config file and sends the same header.
  const dpull = await d.docker(['pull', ref]);
  assert.equal(dpull.code, 0, dpull.stderr);

  const out = await d.berth(['logout', locked.host]);
  assert.equal(out.code, 0);
  assert.equal(out.stdout, `Removing login credentials for ${locked.host}\n`);
  assert.equal(JSON.parse(fs.readFileSync(cfgFile, 'utf8')).auths[locked.host], undefined);
  const after = await d.berth(['push', ref]);
  assert.equal(after.code, 1);

  // The docker CLI's login goes through berthd's POST /auth too.
  const dbad = await d.docker(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 'wrong' });
  assert.equal(dbad.code, 1);
  assert.match(dbad.stderr, new RegExp(`login attempt to http://${locked.host}/v2/ failed with status: 401 Unauthorized`));
  const dok = await d.docker(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 'secret' });
  assert.equal(dok.code, 0, dok.stderr);
  assert.match(dok.stdout, /Login Succeeded/);
  assert.equal((await d.docker(['logout', locked.host])).code, 0);
});

test('a blob with the wrong digest fails the pull and stores nothing', async () => {
  // A good first layer (downloaded and unpacked) must be rolled back too.
  const good = await gzLayer({ 'good.txt': 'fine\n' });
  const layer = Buffer.alloc(1024, 7);
  const claimed = 'sha256:' + createHash('sha256').update(Buffer.alloc(1024, 8)).digest('hex');
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [good.diffId, claimed] } }));
  const cfgDigest = 'sha256:' + createHash('sha256').update(config).digest('hex');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: cfgDigest },
      layers: [
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: good.gz.length, digest: sha(good.gz) },
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: claimed },
      ],
    }),
  );
  const srv = http.createServer((req, res) => {
    const u = req.url ?? '';
    const send = (ct: string, b: Buffer) => {
      res.writeHead(200, { 'content-type': ct, 'content-length': b.length });
      res.end(b);
    };
    if (u === '/v2/') return send('application/json', Buffer.from('{}'));
    if (u === '/v2/bad/img/manifests/1') return send('application/vnd.docker.distribution.manifest.v2+json', manifest);
    if (u === `/v2/bad/img/blobs/${cfgDigest}`) return send('application/octet-stream', config);
    if (u === `/v2/bad/img/blobs/${sha(good.gz)}`) return send('application/octet-stream', good.gz);
    if (u === `/v2/bad/img/blobs/${claimed}`) {
      // Late, so the good layer is already unpacked when this one fails.
      setTimeout(() => send('application/octet-stream', layer), 300);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;

  const blobsBefore = fs.readdirSync(path.join(d.dataRoot, 'content', 'sha256')).sort();
  const snapsBefore = snapshotCount();
  const r = await d.berth(['pull', `127.0.0.1:${port}/bad/img:1`]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `filesystem layer verification failed for digest ${claimed}\n`);
  assert.match(r.stdout, new RegExp(`^${sha(good.gz).slice(7, 19)}: Pull complete$`, 'm'));
  const ls = await d.berth(['images', '-q', `127.0.0.1:${port}/bad/img`]);
  assert.equal(ls.stdout, '');
  assert.equal(snapshotCount(), snapsBefore);
  assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'content', 'sha256')).sort(), blobsBefore);
});

function sha(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

async function gzLayer(files: Record<string, string>): Promise<{ gz: Buffer; diffId: string }> {
  const tar = (await import('tar-stream')).default;
  const zlib = await import('node:zlib');
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  for (const [name, body] of Object.entries(files)) {
    await new Promise<void>((res, rej) => pack.entry({ name, mode: 0o644 }, body, (e) => (e ? rej(e) : res())));
  }
  pack.finalize();
  await ended;
  const raw = Buffer.concat(chunks);
  return { gz: zlib.gzipSync(raw), diffId: sha(raw) };
}

test('bearer-token registry: OCI index, platform pick, parallel gzip layers, Already exists', async () => {
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { type: string; body: Buffer }>();
  const put = (b: Buffer) => {
    blobs.set(sha(b), b);
    return { digest: sha(b), size: b.length };
  };
  const l1 = await gzLayer({ 'base.txt': 'base layer\n' });
  const l2 = await gzLayer({ 'top.txt': 'top layer\n' });
  const l3 = await gzLayer({ 'other.txt': 'other layer\n' });
  const image = (layers: Array<{ gz: Buffer; diffId: string }>) => {
    const cfg = put(Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } })));
    const m = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(l.gz) })),
      }),
    );
    manifests.set(sha(m), { type: 'application/vnd.oci.image.manifest.v1+json', body: m });
    return { digest: sha(m), size: m.length };
  };
  const one = image([l1, l2]);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + 'f'.repeat(64), size: 10, platform: { os: 'linux', architecture: 's390x' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...one, platform: { os: 'linux', architecture: arch } },
      ],
    }),
  );
  manifests.set('1', { type: 'application/vnd.oci.image.index.v1+json', body: index });
  manifests.set('two', manifests.get(image([l1, l3]).digest)!);

  let port = 0;
  const scopes: string[] = [];
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/token') {
      if (req.headers.authorization !== 'Basic ' + Buffer.from('bob:hunter2').toString('base64')) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ details: 'incorrect username or password' }));
      }
      scopes.push(...u.searchParams.getAll('scope'));
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ token: 'tok', expires_in: 300 }));
    }
    if (req.headers.authorization !== 'Bearer tok') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="fake"`, 'content-type': 'application/json' });
      return res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    }
    if (u.pathname === '/v2/') {
      res.writeHead(200);
      return res.end('{}');
    }
    const m = /^\/v2\/team\/app\/(manifests|blobs)\/(.+)$/.exec(u.pathname);
    const hit = m?.[1] === 'manifests' ? manifests.get(m[2]!) : m ? { type: 'application/octet-stream', body: blobs.get(m[2]!) } : undefined;
    if (!hit?.body) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    }
    res.writeHead(200, { 'content-type': hit.type, 'content-length': hit.body.length });
    res.end(hit.body);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  port = (srv.address() as { port: number }).port;
  const host = `127.0.0.1:${port}`;

  const anon = await d.berth(['pull', `${host}/team/app:1`]);
  assert.equal(anon.code, 1);
  assert.match(anon.stderr, /unauthorized: incorrect username or password/);

  const bad = await d.berth(['login', '-u', 'bob', '--password-stdin', host], { input: 'nope' });
  assert.equal(bad.code, 1);
  const login = await d.berth(['login', '-u', 'bob', '--password-stdin', host], { input: 'hunter2' });
  assert.equal(login.code, 0, login.stderr);

  const pl = await d.berth(['pull', `${host}/team/app:1`]);
  assert.equal(pl.code, 0, pl.stderr);
  assert.equal(pl.stdout.match(/: Pull complete$/gm)?.length, 2, pl.stdout);
  assert.ok(pl.stdout.includes(`Digest: ${sha(index)}\n`));
  assert.ok(scopes.includes('repository:team/app:pull'), scopes.join(','));
  const digests = await d.berth(['image', 'inspect', '-f', '{{json .RepoDigests}}', `${host}/team/app:1`]);
  assert.deepEqual(JSON.parse(digests.stdout), [`${host}/team/app@${sha(index)}`]);
  const files = await d.berth(['image', 'inspect', '-f', '{{json .RootFS.Layers}} {{.GraphDriver.Data.UpperDir}} {{.GraphDriver.Data.LowerDir}}', `${host}/team/app:1`]);
  const [layersJson, upper, lower] = files.stdout.trim().split(' ');
  assert.deepEqual(JSON.parse(layersJson!), [l1.diffId, l2.diffId]);
  assert.equal(fs.readFileSync(path.join(upper!, 'top.txt'), 'utf8'), 'top layer\n');
  assert.equal(fs.readFileSync(path.join(lower!, 'base.txt'), 'utf8'), 'base layer\n');

  const two = await d.berth(['pull', `${host}/team/app:two`]);
  assert.equal(two.code, 0, two.stderr);
  assert.match(two.stdout, /^[0-9a-f]{12}: Already exists$/m);
  assert.equal(two.stdout.match(/: Pull complete$/gm)?.length, 1, two.stdout);
  await d.berth(['logout', host]);
});

test('credential helpers: login stores through credsStore, pull/push read it, logout erases it', async () => {
  const bin = path.join(d.dir, 'helper-bin');
  const store = path.join(d.dir, 'helper-store');
  fs.mkdirSync(bin, { recursive: true });
  // A real helper program speaking docker's protocol, keeping secrets in files.
  fs.writeFileSync(
    path.join(bin, 'docker-credential-berthtest'),
    `#!/bin/sh
mkdir -p ${store}
IFS= read -r line || true
case "$1" in
  store) key=$(printf '%s' "$line" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p' | tr '/:' '__'); printf '%s' "$line" > "${store}/$key" ;;
  get) key=$(printf '%s' "$line" | tr '/:' '__'); if [ -f "${store}/$key" ]; then cat "${store}/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) key=$(printf '%s' "$line" | tr '/:' '__'); rm -f "${store}/$key" ;;
esac
`,
    { mode: 0o755 },
  );
  const cfgDir = path.join(d.dir, 'helper-config');
  fs.mkdirSync(cfgDir, { recursive: true });
  fs.writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify({ credsStore: 'berthtest' }));
  const env = { DOCKER_CONFIG: cfgDir, PATH: `${bin}:${process.env.PATH}` };
  const ref = `${locked.host}/helper/box:1`;
  assert.equal((await d.berth(['tag', 'busybox', ref])).code, 0);

  const login = await d.berth(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 'secret\n', env });
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, 'Login Succeeded\n');
  assert.doesNotMatch(login.stderr, /stored unencrypted/);
  const file = JSON.parse(fs.readFileSync(path.join(cfgDir, 'config.json'), 'utf8'));
  assert.deepEqual(file, { credsStore: 'berthtest', auths: { [locked.host]: {} } });
  assert.ok(fs.readFileSync(path.join(store, locked.host.replace(/[/:]/g, '_')), 'utf8').includes('"Secret":"secret"'));

  const pushed = await d.berth(['push', ref], { env });
  assert.equal(pushed.code, 0, pushed.stderr);

  const out = await d.berth(['logout', locked.host], { env });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(fs.existsSync(path.join(store, locked.host.replace(/[/:]/g, '_'))), false);
  const denied = await d.berth(['push', ref], { env });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /no basic auth credentials/);

  // A helper that is not installed is named in the error, as docker does.
  fs.writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify({ credHelpers: { [locked.host]: 'absent' } }));
  const missing = await d.berth(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 'secret\n', env });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Error saving credentials: error storing credentials - err: exec: "docker-credential-absent": executable file not found in \$PATH/);
});

test('an interrupted pull leaves no image, and the next pull reuses the layers that arrived whole', async () => {
  const a = await gzLayer({ 'a.txt': 'first\n' });
  const b = await gzLayer({ 'b.txt': 'second\n'.repeat(5000) });
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [a.diffId, b.diffId] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
      layers: [a, b].map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: l.gz.length, digest: sha(l.gz) })),
    }),
  );
  const hits: Record<string, number> = {};
  const srv = http.createServer((req, res) => {
    const u = req.url ?? '';
    hits[u] = (hits[u] ?? 0) + 1;
    const send = (ct: string, body: Buffer) => {
      res.writeHead(200, { 'content-type': ct, 'content-length': body.length });
      res.end(body);
    };
    if (u === '/v2/') return send('application/json', Buffer.from('{}'));
    if (u === '/v2/flaky/img/manifests/1') return send('application/vnd.docker.distribution.manifest.v2+json', manifest);
    if (u === `/v2/flaky/img/blobs/${sha(config)}`) return send('application/octet-stream', config);
    if (u === `/v2/flaky/img/blobs/${sha(a.gz)}`) return send('application/octet-stream', a.gz);
    if (u === `/v2/flaky/img/blobs/${sha(b.gz)}`) {
      if (hits[u] === 1) {
        // The connection dies half way through the first time.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.gz.length });
        res.write(b.gz.subarray(0, b.gz.length >> 1));
        setTimeout(() => res.socket?.destroy(), 100);
        return;
      }
      return send('application/octet-stream', b.gz);
    }
    res.writeHead(404);
    res.end();
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const ref = `127.0.0.1:${(srv.address() as { port: number }).port}/flaky/img:1`;

  const first = await d.berth(['pull', ref]);
  assert.equal(first.code, 1);
  assert.equal(first.stderr, 'unexpected EOF\n');
  assert.equal((await d.berth(['images', '-q', ref])).stdout, '');
  const second = await d.berth(['pull', ref]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(hits[`/v2/flaky/img/blobs/${sha(a.gz)}`], 1, 'the whole first layer was fetched again');
  assert.equal(hits[`/v2/flaky/img/blobs/${sha(b.gz)}`], 2);
  // The image has no programs; what it holds is its two files.
  const exported = await d.berth(['create', '--name', 'flaky-files', ref]);
  assert.equal(exported.code, 0, exported.stderr);
  const out = await d.berth(['cp', 'flaky-files:/a.txt', '-']);
  assert.match(out.stdout, /first\n/);
  await d.berth(['rm', 'flaky-files']);
});

test('a truncated blob, a manifest of an unknown media type, a 401 without a challenge: one line each, nothing stored', async () => {
  const good = await gzLayer({ 'x.txt': 'x\n'.repeat(1000) });
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [good.diffId] } }));
  const manifest = (mediaType: string) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: good.gz.length, digest: sha(good.gz) }],
      }),
    );
  const srv = http.createServer((req, res) => {
    const u = req.url ?? '';
    const send = (ct: string, b: Buffer, status = 200) => {
      res.writeHead(status, { 'content-type': ct, 'content-length': b.length });
      res.end(b);
    };
    if (u === '/v2/') return send('application/json', Buffer.from('{}'));
    if (u === '/v2/trunc/img/manifests/1') return send('application/vnd.docker.distribution.manifest.v2+json', manifest('application/vnd.docker.distribution.manifest.v2+json'));
    if (u === '/v2/odd/img/manifests/1') return send('text/html', manifest('text/html'));
    if (u === '/v2/locked/img/manifests/1') return send('application/json', Buffer.from('{}'), 401);
    if (u === `/v2/trunc/img/blobs/${sha(config)}`) return send('application/octet-stream', config);
    // A clean, complete HTTP answer that holds fewer bytes than the manifest promised.
    if (u === `/v2/trunc/img/blobs/${sha(good.gz)}`) return send('application/octet-stream', good.gz.subarray(0, good.gz.length - 10));
    res.writeHead(404);
    res.end();
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const host = `127.0.0.1:${(srv.address() as { port: number }).port}`;
  const blobsBefore = fs.readdirSync(path.join(d.dataRoot, 'content', 'sha256')).sort();
  const snapsBefore = snapshotCount();

  const trunc = await d.berth(['pull', `${host}/trunc/img:1`]);
  assert.equal(trunc.code, 1);
  assert.equal(trunc.stderr, `filesystem layer verification failed for digest ${sha(good.gz)}\n`);
  const odd = await d.berth(['pull', `${host}/odd/img:1`]);
  assert.equal(odd.code, 1);
  assert.equal(odd.stderr, 'Error response from daemon: unsupported manifest media type and no default available: text/html\n');
  const locked401 = await d.berth(['pull', `${host}/locked/img:1`]);
  assert.equal(locked401.code, 1);
  assert.equal(locked401.stderr.split('\n').length, 2, locked401.stderr);
  assert.match(locked401.stderr, /unauthorized: authentication required/);

  assert.equal(snapshotCount(), snapsBefore);
  assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'content', 'sha256')).sort(), blobsBefore);
  assert.equal((await d.berth(['images', '-q', `${host}/trunc/img`])).stdout, '');
});

test('login on a terminal prompts for the username (offering the stored one) and an unechoed password', async () => {
  const cfgDir = path.join(d.dir, 'prompt-config');
  const env = { DOCKER_CONFIG: cfgDir, BERTH_HOST: d.host };
  const first = await inPty(`${process.execPath} ${BERTH} login ${locked.host}`, ['alice\r', 'secret\r'], env);
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /Username: alice\r?\n/);
  assert.match(first.out, /Password: \r?\n/);
  assert.doesNotMatch(first.out, /secret/);
  assert.match(first.out, /Login Succeeded/);
  // Enter keeps the stored username.
  const again = await inPty(`${process.execPath} ${BERTH} login ${locked.host}`, ['\r', 'secret\r'], env);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /Username \(alice\): /);
  const wrong = await inPty(`${process.execPath} ${BERTH} login ${locked.host}`, ['\r', 'nope\r'], env);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.out, /401 Unauthorized/);
});
