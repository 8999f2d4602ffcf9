import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TestDaemon } from '../helpers/daemon.js';
import { TestRegistry } from '../helpers/registry.js';

// Registries with TLS must not be on loopback (dockerd, and berth, treat 127/8 as
// insecure and skip verification there): the test makes its own address on a
// veth it creates and removes afterwards.
const tag = String(process.pid % 10000);
const IFACE = `btreg${tag}`;
const ADDR = `198.18.${process.pid % 250}.${1 + (Math.floor(process.pid / 250) % 250)}`;

const strict = new TestDaemon();
const lax = new TestDaemon();
const certs = path.join(strict.dir, 'certs.d');
const pki = path.join(strict.dir, 'pki');
let tlsReg: TestRegistry;
let mtlsReg: TestRegistry;
let plain: TestRegistry;

function openssl(args: string[]) {
  execFileSync('/usr/bin/openssl', args, { cwd: pki, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makePki() {
  fs.mkdirSync(pki, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=berth test CA']);
  const sign = (name: string, ext: string) => {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    fs.writeFileSync(path.join(pki, `${name}.ext`), ext);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`]);
  };
  sign('server', `subjectAltName=IP:${ADDR}\nextendedKeyUsage=serverAuth\n`);
  sign('client', 'extendedKeyUsage=clientAuth\n');
}

function ip(args: string[]) {
  execFileSync('/usr/sbin/ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

before(async () => {
  makePki();
  // A veth end holds the address (this kernel has no dummy interfaces); traffic to it stays on the host.
  ip(['link', 'add', IFACE, 'type', 'veth', 'peer', 'name', `${IFACE}p`]);
  ip(['addr', 'add', `${ADDR}/32`, 'dev', IFACE]);
  ip(['link', 'set', IFACE, 'up']);
  ip(['link', 'set', `${IFACE}p`, 'up']);
  const tls = { cert: path.join(pki, 'server.crt'), key: path.join(pki, 'server.key') };
  tlsReg = new TestRegistry(path.join(strict.dir, 'reg-tls'), {}, { addr: ADDR, tls });
  mtlsReg = new TestRegistry(path.join(strict.dir, 'reg-mtls'), {}, { addr: ADDR, tls: { ...tls, clientCa: path.join(pki, 'ca.crt') } });
  plain = new TestRegistry(path.join(strict.dir, 'reg-plain'));
  await Promise.all([tlsReg.start(), mtlsReg.start(), plain.start()]);
  fs.mkdirSync(certs, { recursive: true });
  await Promise.all([
    strict.start(['--registry-certs-dir', certs, '--registry-mirror', `http://${plain.host}`]).then(() => strict.makeBusybox()),
    lax.start(['--insecure-registry', tlsReg.host, '--registry-certs-dir', path.join(lax.dir, 'none')]).then(() => lax.makeBusybox()),
  ]);
});

after(async () => {
  await Promise.all([tlsReg?.stop(), mtlsReg?.stop(), plain?.stop()]);
  await Promise.all([strict.cleanup(), lax.cleanup()]);
  try {
    ip(['link', 'del', IFACE]);
  } catch {
    /* never created */
  }
});

test('a registry with a private CA: refused as docker words it, then trusted once ca.crt is in certs.d', async () => {
  const ref = `${tlsReg.host}/tls/box:1`;
  assert.equal((await strict.berth(['tag', 'busybox', ref])).code, 0);
  const refused = await strict.berth(['push', ref]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, new RegExp(`Get "https://${tlsReg.host.replace(/\./g, '\\.')}/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority`));

  fs.mkdirSync(path.join(certs, tlsReg.host));
  fs.copyFileSync(path.join(pki, 'ca.crt'), path.join(certs, tlsReg.host, 'ca.crt'));
  const pushed = await strict.berth(['push', ref]);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stdout, /: Pushed$/m);
  assert.equal((await strict.berth(['rmi', ref])).code, 0);
  const pulled = await strict.berth(['pull', ref]);
  assert.equal(pulled.code, 0, pulled.stderr);
  const run = await strict.berth(['run', '--rm', ref, 'echo', 'over tls']);
  assert.equal(run.stdout, 'over tls\n');
});

test('--insecure-registry talks TLS without verifying, as dockerd; info lists it', async () => {
  const ref = `${tlsReg.host}/lax/box:1`;
  assert.equal((await lax.berth(['tag', 'busybox', ref])).code, 0);
  const pushed = await lax.berth(['push', ref]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const info = await lax.berth(['info']);
  assert.match(info.stdout, new RegExp(`Insecure Registries:\\n  ${tlsReg.host.replace(/\./g, '\\.')}\\n  127\\.0\\.0\\.0/8\\n`));
  const viaDocker = await lax.docker(['info', '--format', '{{json .RegistryConfig.InsecureRegistryCIDRs}}']);
  assert.equal(viaDocker.stdout.trim(), '["127.0.0.0/8"]');
});

test('a registry that requires client certificates: refused without, accepted with client.cert/client.key', async () => {
  const ref = `${mtlsReg.host}/mtls/box:1`;
  const dir = path.join(certs, mtlsReg.host);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(pki, 'ca.crt'), path.join(dir, 'ca.crt'));
  assert.equal((await strict.berth(['tag', 'busybox', ref])).code, 0);
  const refused = await strict.berth(['push', ref]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, new RegExp(`remote error: tls: the registry closed the connection; if it requires a client certificate, put client.cert and client.key in ${dir}`));

  fs.copyFileSync(path.join(pki, 'client.crt'), path.join(dir, 'client.cert'));
  const half = await strict.berth(['push', ref]);
  assert.notEqual(half.code, 0);
  assert.match(half.stderr, /missing key client\.key for client certificate client\.cert\. CA certificates must use the extension \.crt/);

  fs.copyFileSync(path.join(pki, 'client.key'), path.join(dir, 'client.key'));
  const pushed = await strict.berth(['push', ref]);
  assert.equal(pushed.code, 0, pushed.stderr);
});

test('--registry-mirror serves docker.io pulls; info shows the mirror', async () => {
  // The mirror holds library/busybox; docker.io itself is unreachable from here, so only the mirror can answer.
  assert.equal((await strict.berth(['tag', 'busybox', `${plain.host}/library/busybox:latest`])).code, 0);
  const seeded = await strict.berth(['push', `${plain.host}/library/busybox:latest`]);
  assert.equal(seeded.code, 0, seeded.stderr);
  await strict.berth(['rmi', '-f', 'busybox']);
  const pulled = await strict.berth(['pull', 'busybox']);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /Status: (Downloaded newer image|Image is up to date) for busybox:latest\n/);
  const run = await strict.berth(['run', '--rm', 'busybox', 'echo', 'mirrored']);
  assert.equal(run.stdout, 'mirrored\n');
  const info = await strict.berth(['info']);
  assert.match(info.stdout, new RegExp(`Registry Mirrors:\\n  http://${plain.host.replace(/\./g, '\\.')}/\\n`));
});

test('a layer the registry holds in a sibling repository is mounted, not uploaded', async () => {
  const a = `${plain.host}/team-a/box:1`;
  const b = `${plain.host}/team-b/box:1`;
  assert.equal((await lax.berth(['tag', 'busybox', a])).code, 0);
  assert.equal((await lax.berth(['tag', 'busybox', b])).code, 0);
  const first = await lax.berth(['push', a]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /: Pushed$/m);
  const second = await lax.berth(['push', b]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^[0-9a-f]{12}: Mounted from team-a\/box$/m);
  assert.doesNotMatch(second.stdout, /: Pushed$/m);
  // The imported (uncompressed) layer went up gzipped, as dockerd sends it.
  const res = await fetch(`http://${plain.host}/v2/team-b/box/manifests/1`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  const man = (await res.json()) as { layers: Array<{ mediaType: string }> };
  assert.ok(man.layers.length > 0 && man.layers.every((l) => /gzip$/.test(l.mediaType)), JSON.stringify(man.layers));
  // The mounted layer is really there: a fresh pull of team-b works.
  assert.equal((await lax.berth(['rmi', b])).code, 0);
  const pulled = await lax.berth(['pull', b]);
  assert.equal(pulled.code, 0, pulled.stderr);
});

test('bad registry flags are refused at start with dockerd\'s words', async () => {
  const bad = new TestDaemon();
  try {
    await assert.rejects(bad.start(['--insecure-registry', 'http://reg:5000']), /insecure registry http:\/\/reg:5000 should not contain '::\/\/'|should not contain/);
  } finally {
    await bad.cleanup();
  }
});
