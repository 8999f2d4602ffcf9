// `swarm ca`: the root CA shown, then rotated (a generated root, then a
// user-given one with -d and --cert-expiry) on a swarm of two managers (etcd
// members that talk to each other with the node certificates). Every node ends
// with a certificate from the new root and trusts it alone; the join tokens
// carry the new digest; services, a new node joining and berthd restarts all
// keep working afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { SwarmLab, type SwarmHost } from '../helpers/swarm-lab.js';
import { BERTH, until, type RunResult } from '../helpers/daemon.js';
import { inPty } from '../helpers/pty.js';

const lab = new SwarmLab();
let m1: SwarmHost;
let m2: SwarmHost;
let w3: SwarmHost;
let tmp: string;

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const PEM = /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/;

async function swarmInspect(h: SwarmHost): Promise<any> {
  return JSON.parse(ok(await h.daemon.berth(['swarm', 'inspect']), 'swarm inspect'))[0];
}

function swarmFile(h: SwarmHost, f: string): string {
  return fs.readFileSync(path.join(h.daemon.dataRoot, 'swarm', f), 'utf8');
}

/** The node's certificate is from `root`, and the node trusts `root` alone. */
function assertOnRoot(h: SwarmHost, root: string): void {
  assert.equal(swarmFile(h, 'ca.crt'), root, `${h.name} trusts the new root alone`);
  const cert = new X509Certificate(swarmFile(h, 'node.crt'));
  assert.ok(cert.verify(new X509Certificate(root).publicKey), `${h.name}'s certificate is from the new root`);
}

async function readyNodes(h: SwarmHost): Promise<string> {
  const r = await h.daemon.berth(['node', 'ls', '--format', '{{.Hostname}}={{.Status}}']);
  return r.code === 0 ? r.stdout.trim().split('\n').sort().join(' ') : '';
}

async function runningOn(h: SwarmHost, service: string): Promise<string[]> {
  const r = await h.daemon.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service], 'desired-state': ['running'] }))}`);
  if (r.status !== 200) return [];
  return (r.json() as any[]).filter((t) => t.Status.State === 'running').map((t) => t.NodeID as string);
}

describe('swarm ca', { timeout: 300_000 }, () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-swarm-ca-'));
    await lab.setup(3);
    [m1, m2, w3] = lab.hosts as [SwarmHost, SwarmHost, SwarmHost];
    await lab.startAll();
    for (const h of lab.hosts) await h.daemon.makeBusybox();
  });
  after(async () => {
    await lab.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  let oldRoot = '';
  let oldWorkerToken = '';

  test('swarm ca prints the root CA certificate; flags without --rotate are refused', async () => {
    ok(await m1.daemon.berth(['swarm', 'init', '--advertise-addr', m1.addr, '--dispatcher-heartbeat', '1s']), 'init');
    const mtoken = ok(await m1.daemon.berth(['swarm', 'join-token', '-q', 'manager']), 'token').trim();
    ok(await m2.daemon.berth(['swarm', 'join', '--token', mtoken, `${m1.addr}:2377`]), 'join m2');
    await until(async () => (await readyNodes(m1)) === 'node1=Ready node2=Ready', 30_000, 300);
    oldRoot = ok(await m1.daemon.berth(['swarm', 'ca']), 'swarm ca');
    assert.match(oldRoot, PEM);
    assert.equal(oldRoot, swarmFile(m1, 'ca.crt'));
    assert.equal((await swarmInspect(m2)).TLSInfo.TrustRoot, oldRoot);
    oldWorkerToken = ok(await m1.daemon.berth(['swarm', 'join-token', '-q', 'worker']), 'token').trim();

    const r = await m1.daemon.berth(['swarm', 'ca', '--cert-expiry', '10h']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, '`--cert-expiry` flag requires the `--rotate` flag to update the CA\n');
    const ext = await m1.daemon.berth(['swarm', 'ca', '--rotate', '--external-ca', 'protocol=cfssl,url=https://127.0.0.1:1']);
    assert.equal(ext.code, 1);
    assert.match(ext.stderr, /rotating to an external CA requires the `--ca-cert` flag/);
    const half = await m1.daemon.berth(['swarm', 'ca', '--rotate', '--ca-cert', path.join(tmp, 'nothing.pem')]);
    assert.equal(half.code, 1);
    assert.equal(half.stderr, 'the --ca-cert flag requires that a --ca-key flag and/or --external-ca flag be provided as well\n');
  });

  test('swarm ca --rotate: progress, then the new root; every node moves to it and the join tokens change', async () => {
    ok(await m1.daemon.berth(['service', 'create', '-d', '--name', 'web', '--replicas', '2', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'service create');
    await until(async () => (await runningOn(m1, 'web')).length === 2, 30_000, 300);
    const out = ok(await m1.daemon.berth(['swarm', 'ca', '--rotate']), 'swarm ca --rotate');
    const m = /^desired root digest: sha256:[0-9a-f]{64}\n {2}rotated TLS certificates: {2}\[={50}>\] 2\/2 nodes\n {2}rotated CA certificates: {3}\[={50}>\] 2\/2 nodes\n(-----BEGIN CERTIFICATE-----\n[\s\S]*)$/.exec(out);
    assert.ok(m, out);
    const newRoot = m[1]!;
    assert.match(newRoot, PEM);
    assert.notEqual(newRoot, oldRoot);
    const sw = await swarmInspect(m2);
    assert.equal(sw.TLSInfo.TrustRoot, newRoot);
    assert.equal(sw.RootRotationInProgress, false);
    assert.equal(sw.Spec.CAConfig.ForceRotate, 1);
    assert.equal(ok(await m2.daemon.docker(['info', '--format', '{{.Swarm.Cluster.RootRotationInProgress}}']), 'info'), 'false\n');
    for (const h of [m1, m2]) assertOnRoot(h, newRoot);
    // docker's node TLSInfo: the issuer is the new root
    const nodes = JSON.parse(ok(await m1.daemon.berth(['node', 'inspect', 'node1', 'node2']), 'node inspect'));
    for (const n of nodes) assert.equal(n.Description.TLSInfo.CertIssuerPublicKey, sw.TLSInfo.CertIssuerPublicKey);
    const wtoken = ok(await m1.daemon.berth(['swarm', 'join-token', '-q', 'worker']), 'token').trim();
    assert.notEqual(wtoken.split('-')[2], oldWorkerToken.split('-')[2], 'the token carries the new root digest');
    assert.equal(ok(await m1.daemon.berth(['swarm', 'ca']), 'swarm ca'), newRoot);
    // the etcd members still form one cluster: both managers answer
    assert.equal(await readyNodes(m2), 'node1=Ready node2=Ready');
    oldRoot = newRoot;
  });

  test('swarm ca --rotate -d with a given root and --cert-expiry', async () => {
    execFileSync('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', path.join(tmp, 'ca.key')]);
    execFileSync('openssl', ['req', '-x509', '-new', '-key', path.join(tmp, 'ca.key'), '-sha256', '-days', '30', '-subj', '/CN=my-own-ca', '-out', path.join(tmp, 'ca.crt')]);
    const given = fs.readFileSync(path.join(tmp, 'ca.crt'), 'utf8');
    const wrongKey = await m1.daemon.berth(['swarm', 'ca', '--rotate', '-d', '--ca-cert', path.join(tmp, 'ca.crt'), '--ca-key', path.join(m1.daemon.dataRoot, 'swarm', 'node.key')]);
    assert.notEqual(wrongKey.code, 0);
    assert.match(wrongKey.stderr, /invalid root CA: the root CA key does not match the root CA certificate/);
    assert.equal((await swarmInspect(m1)).TLSInfo.TrustRoot, oldRoot, 'a refused rotation changes nothing');

    const out = ok(await m1.daemon.berth(['swarm', 'ca', '--rotate', '-d', '--cert-expiry', '48h', '--ca-cert', path.join(tmp, 'ca.crt'), '--ca-key', path.join(tmp, 'ca.key')]), 'rotate -d');
    assert.equal(out, '');
    const during = await swarmInspect(m1);
    assert.equal(during.RootRotationInProgress, true);
    assert.equal(during.TLSInfo.TrustRoot, given);
    assert.equal(during.Spec.CAConfig.NodeCertExpiry, 48 * 3600e9);
    assert.equal(during.Spec.CAConfig.SigningCAKey, undefined, 'the key is never shown');
    await until(async () => {
      const r = await m1.daemon.berth(['swarm', 'inspect', '--format', '{{.RootRotationInProgress}}']);
      return r.code === 0 && r.stdout === 'false\n';
    }, 60_000, 500);
    await until(async () => swarmFile(m1, 'ca.crt') === given && swarmFile(m2, 'ca.crt') === given, 30_000, 300);
    for (const h of [m1, m2]) assertOnRoot(h, given);
    const cert = new X509Certificate(swarmFile(m2, 'node.crt'));
    const days = (new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime()) / 86_400_000;
    assert.equal(days, 2, 'node certificates last --cert-expiry');
    assert.equal(ok(await m2.daemon.berth(['swarm', 'ca']), 'swarm ca'), given);
  });

  test("docker's own CLI rotates against berthd; on a terminal berth redraws the bars", async () => {
    const before = swarmFile(m1, 'ca.crt');
    const d = await m1.daemon.docker(['swarm', 'ca', '--rotate']);
    assert.equal(d.code, 0, d.stderr);
    const root = (await swarmInspect(m1)).TLSInfo.TrustRoot;
    assert.notEqual(root, before);
    assert.ok(d.stdout.endsWith(root), d.stdout);
    assert.match(d.stdout, /^desired root digest: sha256:[0-9a-f]{64}\n/m);
    await until(async () => swarmFile(m1, 'ca.crt') === root && swarmFile(m2, 'ca.crt') === root, 30_000, 300);

    const t = await inPty(`${process.execPath} ${BERTH} swarm ca --rotate`, [], m1.daemon.env);
    const out = t.out.replace(/\r\n/g, '\n');
    assert.equal(t.code, 0, out);
    const next = (await swarmInspect(m1)).TLSInfo.TrustRoot;
    assert.notEqual(next, root);
    assert.match(out, /\x1b\[3A/, 'the bars are redrawn in place');
    assert.ok(out.includes(`\x1b[2K  rotated CA certificates:   [${'='.repeat(50)}>] 2/2 nodes\n${next}`), out);
  });

  test('afterwards: the old token is refused, a new node joins with the new one, services span all nodes', async () => {
    const old = await w3.daemon.berth(['swarm', 'join', '--token', oldWorkerToken, `${m1.addr}:2377`]);
    assert.notEqual(old.code, 0);
    assert.match(old.stderr, /remote CA does not match fingerprint/);
    const wtoken = ok(await m2.daemon.berth(['swarm', 'join-token', '-q', 'worker']), 'token').trim();
    assert.equal(ok(await w3.daemon.berth(['swarm', 'join', '--token', wtoken, `${m2.addr}:2377`]), 'join w3'), 'This node joined a swarm as a worker.\n');
    await until(async () => (await readyNodes(m1)) === 'node1=Ready node2=Ready node3=Ready', 30_000, 300);
    assertOnRoot(w3, swarmFile(m1, 'ca.crt'));
    ok(await m1.daemon.berth(['service', 'scale', '-d', 'web=6']), 'scale');
    const ids = await until(async () => {
      const on = await runningOn(m1, 'web');
      return on.length === 6 && new Set(on).size === 3 ? on : undefined;
    }, 60_000, 500);
    assert.ok(ids);
  });

  test('every node keeps working across a berthd restart', async () => {
    const root = swarmFile(m1, 'ca.crt');
    for (const h of [w3, m2, m1]) {
      await h.daemon.stop();
      await h.daemon.start();
      // the node is back in the swarm with its files: active, and (managers) its etcd member serves again
      await until(async () => {
        const r = await h.daemon.docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}']);
        return r.code === 0 && r.stdout === `active ${h !== w3}\n`;
      }, 60_000, 500);
      await until(async () => (await readyNodes(h === m1 ? m2 : m1)) === 'node1=Ready node2=Ready node3=Ready', 60_000, 500);
      assertOnRoot(h, root);
    }
    assert.equal(ok(await m2.daemon.berth(['swarm', 'ca']), 'swarm ca'), root);
    // every node takes tasks again (its heartbeats get through)
    ok(await m2.daemon.berth(['service', 'scale', '-d', 'web=1']), 'scale down');
    await until(async () => (await runningOn(m2, 'web')).length === 1, 60_000, 500);
    ok(await m1.daemon.berth(['service', 'scale', '-d', 'web=6']), 'scale up');
    await until(async () => {
      const on = await runningOn(m1, 'web');
      return on.length === 6 && new Set(on).size === 3;
    }, 60_000, 500);
    assert.equal((await swarmInspect(m1)).RootRotationInProgress, false);
  });
});
