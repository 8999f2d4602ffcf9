// Swarm features beyond the basics, on three lab hosts (a manager and two
// workers): placement preferences that spread tasks over a node label's
// values; DNS names of tasks and `network inspect` of a swarm network
// (local Containers, Peers); plain containers on attachable overlay networks;
// --with-registry-auth against an htpasswd registry on the lab bridge.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestRegistry } from '../helpers/registry.js';
import { SwarmLab, type SwarmHost } from '../helpers/swarm-lab.js';
import { until, type RunResult } from '../helpers/daemon.js';

const lab = new SwarmLab();
let m: SwarmHost;
let reg: TestRegistry | undefined;
const regDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-gaps-reg-'));

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The id of the (one) container of `service` on host `h`. */
async function containerOf(h: SwarmHost, service: string): Promise<string> {
  const list = (await h.daemon.api('GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.swarm.service.name=${service}`] }))}`)).json() as any[];
  assert.equal(list.length, 1, `${h.name}: ${JSON.stringify(list.map((c) => c.Names))}`);
  return list[0].Id;
}

async function liveTasks(service: string): Promise<any[]> {
  const r = await m.daemon.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service], 'desired-state': ['running'] }))}`);
  assert.equal(r.status, 200, r.body);
  return r.json() as any[];
}

describe('swarm gaps: 1 manager + 2 workers', { timeout: 180_000 }, () => {
  const nodeIds = new Map<string, string>();
  before(async () => {
    await lab.setup(3);
    m = lab.hosts[0]!;
    // A registry with basic auth where the hosts reach it: the test bridge's own address (plain HTTP, hence insecure).
    reg = new TestRegistry(regDir, { alice: 's3cret' }, { addr: lab.gateway });
    await reg.start();
    await lab.startAll(['--insecure-registry', reg.host]);
    for (const h of lab.hosts) await h.daemon.makeBusybox();
    await lab.formSwarm();
    for (const n of (await m.daemon.api('GET', '/nodes')).json() as any[]) nodeIds.set(n.Description.Hostname, n.ID);
  });
  after(async () => {
    await lab.cleanup();
    await reg?.stop();
    fs.rmSync(regDir, { recursive: true, force: true });
  });

  test('--placement-pref spread=node.labels.zone: even over the zones, then over the nodes', async () => {
    // zone a: node1 alone; zone b: node2 and node3. Six tasks: three per zone.
    ok(await m.daemon.berth(['node', 'update', '--label-add', 'zone=a', 'node1']), 'label node1');
    for (const n of ['node2', 'node3']) ok(await m.daemon.berth(['node', 'update', '--label-add', 'zone=b', n]), `label ${n}`);
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'spread', '--replicas', '6', '--placement-pref', 'spread=node.labels.zone', 'busybox', 'sleep', '3600']), 'create');
    const pretty = ok(await m.daemon.berth(['service', 'inspect', '--pretty', 'spread']), 'inspect');
    assert.match(pretty, /\nPlacement:\n Preferences:   \[spread=node\.labels\.zone\]\n/);
    await until(async () => (await liveTasks('spread')).filter((t) => t.NodeID).length === 6, 30_000, 300);
    const count = async () => {
      const per = new Map<string, number>();
      for (const t of await liveTasks('spread')) per.set(t.NodeID, (per.get(t.NodeID) ?? 0) + 1);
      return ['node1', 'node2', 'node3'].map((h) => per.get(nodeIds.get(h)!) ?? 0);
    };
    const [a, b1, b2] = await count();
    assert.equal(a, 3, `zone a gets half: ${[a, b1, b2]}`);
    assert.deepEqual([b1, b2].sort(), [1, 2], `zone b's half over its two nodes: ${[a, b1, b2]}`);
    // Scaling keeps the spread: 8 → 4 per zone, 2 per node in zone b.
    ok(await m.daemon.berth(['service', 'scale', '-d', 'spread=8']), 'scale');
    await until(async () => (await liveTasks('spread')).filter((t) => t.NodeID).length === 8, 30_000, 300);
    assert.deepEqual(await count(), [4, 2, 2]);
    // Removing the preference (service update --placement-pref-rm) leaves the service without one.
    ok(await m.daemon.berth(['service', 'update', '-d', '--placement-pref-rm', 'spread=node.labels.zone', 'spread']), 'update');
    const spec = (await m.daemon.api('GET', '/services/spread')).json().Spec;
    assert.deepEqual(spec.TaskTemplate.Placement.Preferences ?? [], []);
    ok(await m.daemon.berth(['service', 'rm', 'spread']), 'rm');
  });

  test('task names resolve on the network; network inspect shows local Containers and the Peers', async () => {
    const [, w1, w2] = lab.hosts as [SwarmHost, SwarmHost, SwarmHost];
    ok(await m.daemon.berth(['network', 'create', '-d', 'overlay', '--subnet', '10.30.0.0/24', 'gapnet']), 'network create');
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'srv', '--network', 'gapnet', '--constraint', 'node.hostname==node2', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'create srv');
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'cli', '--network', 'gapnet', '--constraint', 'node.hostname==node1', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'create cli');
    let srvTask: any;
    await until(async () => {
      const s = (await liveTasks('srv')).filter((t) => t.Status.State === 'running');
      const c = (await liveTasks('cli')).filter((t) => t.Status.State === 'running');
      srvTask = s[0];
      return s.length === 1 && c.length === 1;
    }, 60_000, 300);
    const srvIp = String(srvTask.NetworksAttachments.find((a: any) => a.Network.Spec.Name === 'gapnet').Addresses[0]).split('/')[0]!;
    const taskName = `srv.${srvTask.Slot}.${srvTask.ID}`;
    const c = await containerOf(m, 'cli');
    const resolve = async (name: string) => {
      const r = await m.daemon.berth(['exec', c, 'nslookup', name]);
      return [...r.stdout.split(/\n\n/).slice(1).join('\n').matchAll(/Address:\s*([0-9.]+)/g)].map((x) => x[1]!).sort();
    };
    assert.ok(await until(async () => JSON.stringify(await resolve(taskName)) === JSON.stringify([srvIp]), 20_000, 500), `${taskName} → ${srvIp}: ${await resolve(taskName)}`);
    assert.deepEqual(await resolve(`srv.${srvTask.Slot}.nosuchtask`), []);

    // On the worker running srv: its container, and the two nodes the network is up on.
    const sc = await containerOf(w1, 'srv');
    const ins = (await w1.daemon.berth(['network', 'inspect', 'gapnet']));
    const net = JSON.parse(ok(ins, 'inspect'))[0];
    assert.deepEqual(Object.keys(net.Containers), [sc]);
    assert.equal(net.Containers[sc].Name, taskName);
    assert.equal(net.Containers[sc].IPv4Address, `${srvIp}/24`);
    assert.match(net.Containers[sc].MacAddress, /^02:42:0a:1e:00:[0-9a-f]{2}$/);
    assert.deepEqual(net.Peers.map((p: any) => p.IP).sort(), [m.addr, w1.addr].sort());
    assert.ok(net.Peers.every((p: any) => /^node[12]-[0-9a-z]{12}$/.test(p.Name)), JSON.stringify(net.Peers));
    // The manager shows its own task's container; node3 runs nothing on gapnet and does not list it.
    const mnet = JSON.parse(ok(await m.daemon.berth(['network', 'inspect', 'gapnet']), 'inspect on the manager'))[0];
    assert.deepEqual(Object.keys(mnet.Containers), [c]);
    assert.equal((await w2.daemon.api('GET', '/networks/gapnet')).status, 404);
    ok(await m.daemon.berth(['service', 'rm', 'srv', 'cli']), 'service rm');
  });

  test('attachable overlay: run --network and network connect on a worker reach a service on the manager; not attachable: docker\'s error', async () => {
    const w1 = lab.hosts[1]!;
    ok(await m.daemon.berth(['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.40.0.0/24', 'attnet']), 'create attnet');
    ok(await m.daemon.berth(['network', 'create', '-d', 'overlay', 'closednet']), 'create closednet');
    const httpd = ['busybox', 'sh', '-c', 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www'];
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'web', '--network', 'attnet', '--constraint', 'node.hostname==node1', '--stop-grace-period', '1s', ...httpd]), 'create web');
    await until(async () => (await liveTasks('web')).some((t) => t.Status.State === 'running'), 60_000, 300);

    // Not attachable (nor ingress): docker's error, from a worker too.
    for (const net of ['closednet', 'ingress']) {
      const want = new RegExp(`Could not attach to network ${net}: rpc error: code = PermissionDenied desc = network ${net} not manually attachable`);
      let r = await w1.daemon.berth(['run', '-d', '--network', net, 'busybox', 'true']);
      await until(async () => want.test((r = await w1.daemon.berth(['run', '-d', '--network', net, 'busybox', 'true'])).stderr), 10_000, 300);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, want);
    }

    ok(await w1.daemon.berth(['run', '-d', '--name', 'plain', '--network', 'attnet', 'busybox', 'sleep', '100000']), 'run --network attnet');
    const fetch = (name: string) => w1.daemon.berth(['exec', name, 'wget', '-q', '-O-', 'http://web/']);
    assert.ok(await until(async () => (await fetch('plain')).stdout.trim() === 'hello-from-web', 30_000, 500), `plain → web: ${JSON.stringify(await fetch('plain'))}`);

    // The container's address comes from the cluster's allocator, and the service's task reaches it by name.
    const net = JSON.parse(ok(await w1.daemon.berth(['network', 'inspect', 'attnet']), 'inspect'))[0];
    const plainId = ok(await w1.daemon.berth(['inspect', '-f', '{{.Id}}', 'plain']), 'inspect plain').trim();
    assert.equal(net.Containers[plainId]?.Name, 'plain', JSON.stringify(net.Containers));
    const plainIp = String(net.Containers[plainId].IPv4Address).split('/')[0]!;
    assert.match(plainIp, /^10\.40\.0\.\d+$/);
    const webC = await containerOf(m, 'web');
    ok(await m.daemon.berth(['exec', webC, 'ping', '-c', '1', '-W', '2', 'plain']), 'web → plain by name');
    const dig = await m.daemon.berth(['exec', webC, 'nslookup', 'plain']);
    assert.match(dig.stdout.split(/\n\n/).slice(1).join('\n'), new RegExp(`Address:\\s*${plainIp.replace(/\./g, '\\.')}`));

    // network connect (before start): the same.
    ok(await w1.daemon.berth(['create', '--name', 'plain2', 'busybox', 'sleep', '100000']), 'create plain2');
    ok(await w1.daemon.berth(['network', 'connect', 'attnet', 'plain2']), 'network connect');
    ok(await w1.daemon.berth(['start', 'plain2']), 'start plain2');
    assert.ok(await until(async () => (await fetch('plain2')).stdout.trim() === 'hello-from-web', 30_000, 500), `plain2 → web: ${JSON.stringify(await fetch('plain2'))}`);
    const bad = await w1.daemon.berth(['network', 'connect', 'closednet', 'plain2']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Could not attach to network closednet: rpc error: code = PermissionDenied desc = network closednet not manually attachable/);

    // Removed containers leave the network: the worker, with nothing else on it, no longer shows it.
    ok(await w1.daemon.berth(['rm', '-f', 'plain', 'plain2']), 'rm');
    assert.ok(await until(async () => (await w1.daemon.api('GET', '/networks/attnet')).status === 404, 10_000, 300), 'attnet still on node2');
    ok(await m.daemon.berth(['service', 'rm', 'web']), 'service rm');
  });

  test('--with-registry-auth: the client\'s credentials reach the node that pulls; without them the pull is refused', async () => {
    const host = reg!.host;
    const ref = `${host}/priv/box:1`;
    ok(await m.daemon.berth(['login', '-u', 'alice', '-p', 's3cret', host]), 'login');
    ok(await m.daemon.berth(['tag', 'busybox', ref]), 'tag');
    ok(await m.daemon.berth(['push', ref]), 'push');
    // node2 lacks the image and has no login of its own.
    const where = ['--constraint', 'node.hostname==node2', '--stop-grace-period', '1s'];
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'noauth', '--restart-condition', 'none', ...where, ref, 'sleep', '100000']), 'create noauth');
    let err = '';
    assert.ok(
      await until(async () => {
        const r = await m.daemon.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: ['noauth'] }))}`);
        err = (r.json() as any[]).map((t) => t.Status.Err ?? '').join(' ');
        return /no basic auth credentials/.test(err);
      }, 30_000, 300).catch(() => false),
      `noauth task error: ${err}`,
    );
    ok(await m.daemon.berth(['service', 'rm', 'noauth']), 'rm noauth');

    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'withauth', '--with-registry-auth', ...where, ref, 'sleep', '100000']), 'create withauth');
    const ran = await until(async () => (await liveTasks('withauth')).some((t) => t.Status.State === 'running'), 60_000, 300).catch(() => false);
    assert.ok(ran, `withauth never ran: ${JSON.stringify((await liveTasks('withauth')).map((t) => t.Status))}`);
    // The credentials are not shown to anyone.
    const shown = (await m.daemon.api('GET', '/services/withauth')).body + (await m.daemon.api('GET', '/tasks')).body;
    assert.doesNotMatch(shown, /s3cret|RegistryAuth|YWxpY2/);
    ok(await m.daemon.berth(['service', 'rm', 'withauth']), 'rm withauth');

    // stack deploy --with-registry-auth: the same, for node3.
    const file = path.join(regDir, 'stack.yml');
    fs.writeFileSync(file, `services:\n  box:\n    image: ${ref}\n    command: sleep 100000\n    deploy:\n      placement:\n        constraints: [node.hostname==node3]\n`);
    ok(await m.daemon.berth(['stack', 'deploy', '--with-registry-auth', '-c', file, 'priv']), 'stack deploy');
    const ranStack = await until(async () => (await liveTasks('priv_box')).some((t) => t.Status.State === 'running'), 60_000, 300).catch(() => false);
    assert.ok(ranStack, `priv_box never ran: ${JSON.stringify((await liveTasks('priv_box')).map((t) => t.Status))}`);
    ok(await m.daemon.berth(['stack', 'rm', 'priv']), 'stack rm');
  });
});
