import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges } from '../../src/daemon/registry/challenge.js';
import { Authorizer } from '../../src/daemon/registry/auth.js';
import { RegistryHosts, isLoopbackHost, validateInsecureRegistry, validateMirror } from '../../src/daemon/registry/hosts.js';
import { Limiter } from '../../src/daemon/registry/limiter.js';
import { buildConfig } from '../../src/daemon/daemon-flags.js';
import { formatRegistryErrors } from '../../src/daemon/registry/errors.js';
import { configKeyFor, decodeAuthHeader, encodeAuthHeader, serverHost } from '../../src/common/registry-auth.js';

test('parses Docker Hub style bearer challenges', () => {
  const chs = parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
  assert.deepEqual(chs, [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
});

test('parses basic, token params, escapes and several challenges', () => {
  assert.deepEqual(parseChallenges('Basic realm="basic-realm"'), [{ scheme: 'basic', params: { realm: 'basic-realm' } }]);
  assert.deepEqual(parseChallenges('basic realm=simple'), [{ scheme: 'basic', params: { realm: 'simple' } }]);
  assert.deepEqual(parseChallenges('Bearer realm="a\\"b", error="invalid_token"'), [{ scheme: 'bearer', params: { realm: 'a"b', error: 'invalid_token' } }]);
  const two = parseChallenges('Basic realm="r1", Bearer realm="https://t/x",service="s"');
  assert.deepEqual(two.map((c) => c.scheme), ['basic', 'bearer']);
  assert.equal(two[1]!.params.service, 's');
  assert.deepEqual(parseChallenges(''), []);
  assert.deepEqual(parseChallenges(undefined), []);
});

test('X-Registry-Auth round trip is base64url JSON', () => {
  const h = encodeAuthHeader({ username: 'alice', password: 's3cr?t>>', serveraddress: '127.0.0.1:5000' });
  assert.doesNotMatch(h, /[+/=]/);
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { username: 'alice', password: 's3cr?t>>', serveraddress: '127.0.0.1:5000' });
  assert.deepEqual(decodeAuthHeader(h), { username: 'alice', password: 's3cr?t>>', serveraddress: '127.0.0.1:5000' });
  // Standard base64 with padding, as older clients send it.
  const std = Buffer.from(JSON.stringify({ username: 'bob', password: 'pw' })).toString('base64');
  assert.deepEqual(decodeAuthHeader(std), { username: 'bob', password: 'pw' });
  // `auth` (user:pass) alone.
  assert.deepEqual(decodeAuthHeader(encodeAuthHeader({ auth: Buffer.from('u:p:q').toString('base64') })).password, 'p:q');
  assert.deepEqual(decodeAuthHeader(''), {});
  assert.deepEqual(decodeAuthHeader('e30='), {});
  assert.deepEqual(decodeAuthHeader('not base64 json'), {});
});

test('config keys and server names as docker login uses them', () => {
  assert.equal(configKeyFor('docker.io'), 'https://index.docker.io/v1/');
  assert.equal(configKeyFor('127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(serverHost('https://reg.example.com/v2/'), 'reg.example.com');
  assert.equal(serverHost('localhost:5000'), 'localhost:5000');
});

test('endpoints as dockerd orders them: mirrors, then HTTPS; insecure registries also plain HTTP', () => {
  const hosts = new RegistryHosts({ insecure: ['reg.lan:5000', '10.8.0.0/16'], mirrors: ['https://mirror.example.com/'], certsDirs: [] });
  const bases = (d: string, p?: 'pull' | 'push') => hosts.endpoints(d, p).map((e) => e.base);
  assert.deepEqual(bases('docker.io'), ['https://mirror.example.com', 'https://registry-1.docker.io']);
  assert.deepEqual(bases('docker.io', 'push'), ['https://registry-1.docker.io']);
  assert.deepEqual(bases('127.0.0.1:5000'), ['https://127.0.0.1:5000', 'http://127.0.0.1:5000']);
  assert.deepEqual(bases('localhost:5000'), ['https://localhost:5000', 'http://localhost:5000']);
  assert.deepEqual(bases('reg.lan:5000'), ['https://reg.lan:5000', 'http://reg.lan:5000']);
  assert.deepEqual(bases('10.8.3.4:5000'), ['https://10.8.3.4:5000', 'http://10.8.3.4:5000']);
  assert.deepEqual(bases('10.9.3.4:5000'), ['https://10.9.3.4:5000']);
  assert.deepEqual(bases('reg.example.com'), ['https://reg.example.com']);
  assert.equal(isLoopbackHost('127.3.4.5'), true);
  assert.equal(isLoopbackHost('[::1]:5000'), true);
  assert.equal(isLoopbackHost('10.0.0.1:5000'), false);
  assert.deepEqual(hosts.info().InsecureRegistryCIDRs, ['127.0.0.0/8', '10.8.0.0/16']);
  assert.equal(hosts.info().IndexConfigs['reg.lan:5000']?.Secure, false);
});

test('--insecure-registry and --registry-mirror values are checked as dockerd checks them', () => {
  assert.throws(() => validateInsecureRegistry('http://reg:5000'), /should not contain '::\/\/'|should not contain '\:\/\/'|should not contain/);
  assert.throws(() => validateInsecureRegistry('10.0.0.0/40'), /invalid CIDR address: 10.0.0.0\/40/);
  assert.equal(validateInsecureRegistry('reg:5000'), 'reg:5000');
  assert.equal(validateMirror('https://mirror.example.com'), 'https://mirror.example.com/');
  assert.throws(() => validateMirror('ftp://m'), /unsupported scheme "ftp"/);
  assert.throws(() => validateMirror('https://m/path'), /path, query, or fragment/);
});

test('distribution error bodies are worded as docker prints them', () => {
  const body = JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: {} }] });
  assert.deepEqual(formatRegistryErrors(404, body), { message: 'manifest unknown: manifest unknown', code: 'MANIFEST_UNKNOWN' });
  assert.equal(formatRegistryErrors(401, '').message, 'unauthorized: authentication required');
});

test('basic challenge without credentials fails with docker\'s text; with them sends Basic', async () => {
  const anon = new Authorizer({});
  assert.equal(await anon.header(['repository:x:pull']), undefined);
  anon.learn('Basic realm="r"');
  await assert.rejects(anon.header(['repository:x:pull']), /^RegistryError: no basic auth credentials$/);
  const a = new Authorizer({ username: 'alice', password: 'secret' });
  a.learn('Basic realm="r"');
  assert.equal(await a.header([]), 'Basic ' + Buffer.from('alice:secret').toString('base64'));
});

test('bearer tokens are fetched with scope and service, and cached per scope', async () => {
  const calls: string[] = [];
  const fake = (async (url: URL | string, init?: RequestInit) => {
    calls.push(String(url) + ' ' + ((init?.headers as Record<string, string>)?.authorization ?? '-'));
    return new Response(JSON.stringify({ token: `tok${calls.length}`, expires_in: 300 }), { status: 200 });
  }) as typeof fetch;
  const a = new Authorizer({ username: 'u', password: 'p' }, fake);
  a.learn('Bearer realm="https://auth.example/token",service="reg"');
  assert.equal(await a.header(['repository:lib/x:pull']), 'Bearer tok1');
  assert.equal(await a.header(['repository:lib/x:pull']), 'Bearer tok1');
  assert.equal(await a.header(['repository:lib/x:pull,push']), 'Bearer tok2');
  assert.equal(calls.length, 2);
  const u = new URL(calls[0]!.split(' ')[0]!);
  assert.equal(u.searchParams.get('service'), 'reg');
  assert.equal(u.searchParams.get('scope'), 'repository:lib/x:pull');
  assert.equal(u.searchParams.get('account'), 'u');
  assert.match(calls[0]!, / Basic /);
});

test('a rejected token request is an unauthorized error', async () => {
  const fake = (async () => new Response(JSON.stringify({ details: 'incorrect username or password' }), { status: 401 })) as typeof fetch;
  const a = new Authorizer({ username: 'u', password: 'bad' }, fake);
  a.learn('Bearer realm="https://auth.example/token"');
  await assert.rejects(a.header(['repository:x:pull']), /unauthorized: incorrect username or password/);
});

test('progress text has docker\'s bar and padding', async () => {
  const { progressBar } = await import('../../src/daemon/registry/progress.js');
  assert.equal(progressBar(0, 2000), `[>${' '.repeat(50)}]       0B/2kB`);
  assert.equal(progressBar(1000, 2000), `[${'='.repeat(25)}>${' '.repeat(25)}]      1kB/2kB`);
  assert.equal(progressBar(2000, 2000), `[${'='.repeat(50)}>]      2kB/2kB`);
});

test('transfers are bounded daemon-wide, in arrival order, and the flags set the bounds', async () => {
  const lim = new Limiter(2);
  let now = 0;
  let peak = 0;
  const order: number[] = [];
  const waited: number[] = [];
  const job = (i: number) =>
    lim.run(
      async () => {
        now++;
        peak = Math.max(peak, now);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        now--;
      },
      () => waited.push(i),
    );
  await Promise.all([0, 1, 2, 3, 4].map(job));
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.deepEqual(waited, [2, 3, 4]);

  const { cfg } = buildConfig(['--max-concurrent-downloads', '1', '--insecure-registry', '10.0.0.0/8', '--registry-mirror', 'https://m.example.com']);
  assert.equal(cfg.registry.maxConcurrentDownloads, 1);
  assert.equal(cfg.registry.maxConcurrentUploads, 5);
  assert.deepEqual(cfg.registry.insecure, ['10.0.0.0/8']);
  assert.deepEqual(cfg.registry.mirrors, ['https://m.example.com/']);
  assert.throws(() => buildConfig(['--max-concurrent-uploads', '0']), /invalid value "0" for --max-concurrent-uploads/);
  assert.throws(() => buildConfig(['--registry-mirror', 'm.example.com']), /invalid mirror/);
});
