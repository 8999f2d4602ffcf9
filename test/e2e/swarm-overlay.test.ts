// Overlay networks in swarm mode, on a manager and a worker (network
// namespaces on a test bridge): `network create -d overlay` kept by the
// managers, tasks of a service on an overlay network reaching each other
// across hosts over VXLAN, and the ingress routing mesh answering a published
// port on every node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { SwarmLab, type SwarmHost } from '../helpers/swarm-lab.js';
import { run, until, type RunResult } from '../helpers/daemon.js';
import { overlayNames } from '../../src/daemon/services/swarm/overlay-agent.js';

const lab = new SwarmLab();
let m: SwarmHost;
let w: SwarmHost;

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function running(service: string): Promise<any[]> {
  const r = await m.daemon.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service], 'desired-state': ['running'] }))}`);
  assert.equal(r.status, 200, r.body);
  return (r.json() as any[]).filter((t) => t.Status.State === 'running');
}

/** The id of the (one) container of `service` on host `h`. */
async function containerOf(h: SwarmHost, service: string): Promise<string> {
  const list = (await h.daemon.api('GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.swarm.service.name=${service}`] }))}`)).json() as any[];
  assert.equal(list.length, 1, `${h.name}: ${JSON.stringify(list.map((c) => c.Names))}`);
  return list[0].Id;
}

function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('error', () => resolve(''));
    req.on('timeout', () => {
      req.destroy();
      resolve('');
    });
  });
}

describe('swarm overlay networks: manager + worker', { timeout: 180_000 }, () => {
  before(async () => {
    await lab.setup(2);
    [m, w] = lab.hosts as [SwarmHost, SwarmHost];
    await lab.startAll();
    for (const h of lab.hosts) await h.daemon.makeBusybox();
    const bad = await m.daemon.berth(['network', 'create', '-d', 'overlay', 'early']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /This node is not a swarm manager\. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again\./);
    await lab.formSwarm();
  });
  after(async () => {
    await lab.cleanup();
  });

  test('network create -d overlay on a manager; ls, inspect; refused on a worker', async () => {
    await until(async () => /ingress/.test(ok(await m.daemon.berth(['network', 'ls']), 'ls')), 10_000, 200);
    const ingress = (await m.daemon.api('GET', '/networks/ingress')).json();
    assert.equal(ingress.Ingress, true);
    assert.equal(ingress.Scope, 'swarm');
    assert.deepEqual(ingress.IPAM.Config, [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }]);
    const id = ok(await m.daemon.berth(['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.20.0.0/24', '--label', 'team=a', 'appnet']), 'create').trim();
    assert.match(id, /^[0-9a-z]{25}$/);
    const ls = ok(await m.daemon.berth(['network', 'ls', '--filter', 'driver=overlay', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']), 'ls');
    assert.deepEqual(ls.trim().split('\n').sort(), ['appnet overlay swarm', 'ingress overlay swarm']);
    const nw = (await m.daemon.api('GET', '/networks/appnet')).json();
    assert.equal(nw.Id, id);
    assert.equal(nw.Attachable, true);
    assert.equal(nw.Labels.team, 'a');
    assert.equal(nw.IPAM.Config[0].Subnet, '10.20.0.0/24');
    assert.match(nw.Options['com.docker.network.driver.overlay.vxlanid_list'], /^\d+$/);
    const dup = await m.daemon.berth(['network', 'create', '-d', 'overlay', 'appnet']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /network with name appnet already exists/);
    const onWorker = await w.daemon.berth(['network', 'create', '-d', 'overlay', 'wnet']);
    assert.equal(onWorker.code, 1);
    assert.match(onWorker.stderr, /Cannot create a multi-host network from a worker node\. Please create the network from a manager node\./);
    // The docker CLI as a client.
    ok(await m.daemon.docker(['network', 'create', '-d', 'overlay', 'dnet']), 'docker network create');
    assert.match(ok(await m.daemon.docker(['network', 'ls', '--filter', 'driver=overlay', '--format', '{{.Name}} {{.Scope}}']), 'docker network ls'), /^dnet swarm$/m);
    assert.equal(ok(await m.daemon.docker(['network', 'inspect', '-f', '{{.Scope}} {{.Driver}}', 'dnet']), 'docker network inspect').trim(), 'swarm overlay');
    assert.equal(ok(await m.daemon.docker(['network', 'rm', 'dnet']), 'docker network rm').trim(), 'dnet');
    // A worker shows a swarm network only once it has a task on it.
    assert.doesNotMatch(ok(await w.daemon.berth(['network', 'ls']), 'worker ls'), /appnet/);
  });

  test('tasks on an overlay network reach each other across hosts by task IP', async () => {
    for (const [name, host] of [['left', 'node1'], ['right', 'node2']]) {
      ok(await m.daemon.berth(['service', 'create', '-d', '--name', name!, '--network', 'appnet', '--constraint', `node.hostname==${host}`, '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), `create ${name}`);
    }
    await until(async () => (await running('left')).length === 1 && (await running('right')).length === 1, 60_000, 300);
    const ipOf = async (svc: string) => {
      const t = (await running(svc))[0];
      const att = (t.NetworksAttachments as any[]).find((a) => a.Network.Spec.Name === 'appnet');
      return String(att.Addresses[0]).split('/')[0]!;
    };
    const [l, r] = [await ipOf('left'), await ipOf('right')];
    assert.match(l, /^10\.20\.0\.\d+$/);
    const [cl, cr] = [await containerOf(m, 'left'), await containerOf(w, 'right')];
    const ping = (h: SwarmHost, c: string, ip: string) => h.daemon.berth(['exec', c, 'ping', '-c', '1', '-W', '1', ip]);
    assert.ok(await until(async () => (await ping(m, cl, r)).code === 0, 30_000, 500), `node1 → ${r}`);
    ok(await ping(w, cr, l), `node2 → ${l}`);
    // The worker lists the network now that it has a task on it.
    assert.match(ok(await w.daemon.berth(['network', 'ls', '--format', '{{.Name}} {{.Scope}}']), 'worker ls'), /^appnet swarm$/m);
    const rm = await m.daemon.berth(['network', 'rm', 'appnet']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /network [0-9a-z]{25} is in use by service [0-9a-z]{25}/);
    ok(await m.daemon.berth(['service', 'rm', 'left', 'right']), 'service rm');
    ok(await m.daemon.berth(['network', 'rm', 'appnet']), 'network rm');
    assert.equal((await m.daemon.api('GET', '/networks/appnet')).status, 404);
  });

  test('service discovery: a task finds a service on another host by name (VIP), tasks.<name>, and dnsrr', async () => {
    ok(await m.daemon.berth(['network', 'create', '-d', 'overlay', 'svcnet']), 'network create');
    const httpd = ['busybox', 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www'];
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'api', '--replicas', '2', '--network', 'svcnet', '--constraint', 'node.hostname==node2', '--stop-grace-period', '1s', ...httpd]), 'create api');
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'rr', '--endpoint-mode', 'dnsrr', '--network', 'svcnet', '--constraint', 'node.hostname==node2', '--stop-grace-period', '1s', ...httpd]), 'create rr');
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'client', '--network', 'svcnet', '--constraint', 'node.hostname==node1', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'create client');
    await until(async () => (await running('api')).length === 2 && (await running('rr')).length === 1 && (await running('client')).length === 1, 60_000, 300);
    const svc = (await m.daemon.api('GET', '/services/api')).json();
    const vip = String(svc.Endpoint.VirtualIPs.find((v: any) => v.NetworkID === svc.Spec.TaskTemplate.Networks[0].Target).Addr).split('/')[0]!;
    const taskIps = async (s: string) => (await running(s)).map((t) => String(t.NetworksAttachments.find((a: any) => a.Network.Spec.Name === 'svcnet').Addresses[0]).split('/')[0]!).sort();
    const c = await containerOf(m, 'client');
    const resolve = async (name: string) => {
      const r = await m.daemon.berth(['exec', c, 'nslookup', name]);
      return [...r.stdout.split(/\n\n/).slice(1).join('\n').matchAll(/Address:\s*([0-9.]+)/g)].map((x) => x[1]!).sort();
    };
    assert.ok(await until(async () => JSON.stringify(await resolve('api')) === JSON.stringify([vip]), 20_000, 500), `api → ${vip}: ${await resolve('api')}`);
    const apiTasks = await taskIps('api');
    assert.ok(await until(async () => JSON.stringify(await resolve('tasks.api')) === JSON.stringify(apiTasks), 20_000, 500), `tasks.api → ${apiTasks}`);
    const rrTasks = await taskIps('rr');
    assert.ok(await until(async () => JSON.stringify(await resolve('rr')) === JSON.stringify(rrTasks), 20_000, 500), `rr → ${rrTasks}`);
    // The VIP spreads connections over both tasks on the other host. (No -T: busybox-static's wget crashes with it.)
    const seen = new Set<string>();
    let last = '';
    for (let i = 0; i < 60 && seen.size < 2; i++) {
      const r = await m.daemon.berth(['exec', c, 'wget', '-q', '-O-', 'http://api/']);
      if (r.code === 0) seen.add(r.stdout.trim());
      else last = r.stderr;
      if (seen.size < 2) await new Promise((res) => setTimeout(res, 300));
    }
    assert.equal(seen.size, 2, `answers from ${[...seen]}; last error: ${last}`);
    ok(await m.daemon.berth(['exec', c, 'wget', '-q', '-O-', 'http://rr/']), 'dnsrr by name');
    ok(await m.daemon.berth(['service', 'rm', 'api', 'rr', 'client']), 'rm');
  });

  test('the routing mesh: a published port answers on every node', async () => {
    ok(await m.daemon.berth([
      'service', 'create', '-d', '--name', 'web', '-p', '8080:80', '--constraint', 'node.hostname==node2', '--stop-grace-period', '1s',
      'busybox', 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www',
    ]), 'create');
    await until(async () => (await running('web')).length === 1, 60_000, 300);
    for (const h of lab.hosts) {
      assert.ok(await until(async () => (await get(`http://${h.addr}:8080/`)) !== '', 30_000, 500), `no answer on ${h.name} (${h.addr}:8080)`);
    }
    ok(await m.daemon.berth(['service', 'rm', 'web']), 'rm');
  });

  test('a node that leaves the swarm keeps no overlay device', async () => {
    const dev = overlayNames(w.daemon.chainPrefix).devicePrefix;
    const links = async () => (await run('/usr/sbin/ip', ['-n', w.netns, '-o', 'link'])).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '').filter((n) => n.startsWith(dev));
    // Every node is on ingress (its routing-mesh address).
    assert.ok(await until(async () => (await links()).length > 0, 15_000, 300), 'the worker has its ingress devices');
    ok(await w.daemon.berth(['swarm', 'leave']), 'leave');
    assert.deepEqual(await links(), []);
  });
});
