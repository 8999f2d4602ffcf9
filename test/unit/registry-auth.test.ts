import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges } from '../../src/daemon/registry/challenge.js';
import { Authorizer } from '../../src/daemon/registry/auth.js';
import { endpointFor, isLoopbackHost } from '../../src/daemon/registry/endpoint.js';
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

test('loopback registries are plain HTTP, others HTTPS; docker.io maps to registry-1', () => {
  assert.equal(endpointFor('docker.io').base, 'https://registry-1.docker.io');
  assert.equal(endpointFor('127.0.0.1:5000').base, 'http://127.0.0.1:5000');
  assert.equal(endpointFor('localhost:5000').base, 'http://localhost:5000');
  assert.equal(endpointFor('reg.example.com').base, 'https://reg.example.com');
  assert.equal(isLoopbackHost('127.3.4.5'), true);
  assert.equal(isLoopbackHost('[::1]:5000'), true);
  assert.equal(isLoopbackHost('10.0.0.1:5000'), false);
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
