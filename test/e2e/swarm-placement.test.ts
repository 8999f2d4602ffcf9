// Placement on one swarm of two lab hosts (a manager and a worker):
// `--replicas-max-per-node` (Placement.MaxReplicas) on `service create` and
// `service update` and from a stack's `deploy.placement.max_replicas_per_node`
// — never more tasks of the service on one node, the surplus pending with
// swarmkit's reason, and running once the limit is raised or the service
// scaled down; and the address and aliases of plain containers on an
// attachable overlay (`run --ip --network-alias`, `network connect --ip
// --alias`): allocated in the cluster, docker's errors when taken or outside
// the subnet, resolvable from containers and tasks on other hosts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SwarmLab, type SwarmHost } from '../helpers/swarm-lab.js';
import { until, type RunResult } from '../helpers/daemon.js';

const lab = new SwarmLab();
let m: SwarmHost;
let w: SwarmHost;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-placement-'));
const MAX_EXPLAIN = 'no suitable node (max replicas per node limit exceed)';

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function tasks(service: string): Promise<any[]> {
  const r = await m.daemon.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service], 'desired-state': ['running'] }))}`);
  assert.equal(r.status, 200, r.body);
  return r.json() as any[];
}

/** The service's tasks that should run: running ones per node, and the pending ones. */
async function placement(service: string): Promise<{ perNode: Map<string, number>; running: any[]; pending: any[] }> {
  const ts = await tasks(service);
  const running = ts.filter((t) => t.Status.State === 'running');
  const perNode = new Map<string, number>();
  for (const t of running) perNode.set(t.NodeID, (perNode.get(t.NodeID) ?? 0) + 1);
  return { perNode, running, pending: ts.filter((t) => t.Status.State === 'pending') };
}

/** Waits until `running` tasks run and `pending` wait; never more than `max` on one node meanwhile. */
async function settle(service: string, running: number, pending: number, max: number): Promise<{ running: any[]; pending: any[] }> {
  let last: Awaited<ReturnType<typeof placement>> | undefined;
  await until(async () => {
    last = await placement(service);
    for (const [node, n] of last.perNode) assert.ok(n <= max, `${service}: ${n} tasks on node ${node}, limit ${max}`);
    return last.running.length === running && last.pending.length === pending;
  }, 40_000, 300).catch((e) => {
    throw new Error(`${service}: ${last?.running.length} running, ${last?.pending.length} pending (want ${running}/${pending}): ${(e as Error).message}`);
  });
  return last!;
}

describe('swarm placement: manager + worker', { timeout: 170_000 }, () => {
  before(async () => {
    await lab.setup(2);
    [m, w] = lab.hosts as [SwarmHost, SwarmHost];
    await lab.startAll();
    for (const h of lab.hosts) await h.daemon.makeBusybox();
    await lab.formSwarm();
  });
  after(async () => {
    await lab.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('--replicas-max-per-node: the surplus pends with swarmkit\'s reason; raising the limit runs it without restarting the others; scaling down ends the pending', async () => {
    const bad = await m.daemon.berth(['service', 'create', '-d', '--mode', 'global', '--replicas-max-per-node', '1', 'busybox', 'true']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /replicas-max-per-node can only be used with replicated or replicated-job mode/);

    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'cap', '--replicas', '3', '--replicas-max-per-node', '1', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'create cap');
    const first = await settle('cap', 2, 1, 1);
    assert.equal(new Set(first.running.map((t) => t.NodeID)).size, 2, 'one task on each node');
    await until(async () => (await placement('cap')).pending[0]?.Status.Err === MAX_EXPLAIN, 10_000, 300);
    // docker's `service ps`: the error quoted, truncated unless --no-trunc.
    const ps = ok(await m.daemon.berth(['service', 'ps', 'cap']), 'service ps');
    assert.match(ps, /cap\.\d +busybox +Running +Pending .* ago +"no suitable node \(max replica…"/);
    const full = ok(await m.daemon.berth(['service', 'ps', '--no-trunc', 'cap']), 'service ps --no-trunc');
    assert.ok(full.includes(`"${MAX_EXPLAIN}"`), full);
    const pretty = ok(await m.daemon.berth(['service', 'inspect', '--pretty', 'cap']), 'inspect --pretty');
    assert.match(pretty, /\nPlacement:\n Max Replicas Per Node:   1\n/);
    assert.match(ok(await m.daemon.berth(['service', 'ls', '--filter', 'name=cap', '--format', '{{.Replicas}}']), 'service ls'), /^2\/3/);

    // A placement change alone restarts nothing (swarmkit's IsTaskDirtyPlacementConstraintsOnly): the pending task gets a node.
    ok(await m.daemon.berth(['service', 'update', '-d', '--replicas-max-per-node', '2', 'cap']), 'update max 2');
    const raised = await settle('cap', 3, 0, 2);
    for (const t of first.running) assert.ok(raised.running.some((x) => x.ID === t.ID), `task ${t.ID} still runs`);
    const spec = JSON.parse(ok(await m.daemon.berth(['service', 'inspect', 'cap']), 'inspect'))[0].Spec;
    assert.equal(spec.TaskTemplate.Placement.MaxReplicas, 2);

    // 5 replicas, 2 per node on 2 nodes: one pends; scaled down to 4, none does.
    ok(await m.daemon.berth(['service', 'scale', '-d', 'cap=5']), 'scale 5');
    await settle('cap', 4, 1, 2);
    ok(await m.daemon.berth(['service', 'scale', '-d', 'cap=4']), 'scale 4');
    await settle('cap', 4, 0, 2);
    await until(async () => /^4\/4/.test(ok(await m.daemon.berth(['service', 'ls', '--filter', 'name=cap', '--format', '{{.Replicas}}']), 'ls')), 10_000, 300);

    // Back to unlimited: 0.
    ok(await m.daemon.berth(['service', 'update', '-d', '--replicas-max-per-node', '0', '--replicas', '5', 'cap']), 'update max 0');
    await settle('cap', 5, 0, 5);
    assert.doesNotMatch(ok(await m.daemon.berth(['service', 'inspect', '--pretty', 'cap']), 'pretty'), /Max Replicas Per Node/);
    ok(await m.daemon.berth(['service', 'rm', 'cap']), 'rm cap');
  });

  test('attachable overlay: --ip and aliases of plain containers, across hosts; docker\'s errors', async () => {
    ok(await m.daemon.berth(['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.60.0.0/24', 'fixnet']), 'create fixnet');
    // Outside the subnet, not an address: dockerd's validateEndpointSettings texts, nothing left behind.
    let r = await w.daemon.berth(['run', '-d', '--name', 'outside', '--network', 'fixnet', '--ip', '10.61.0.5', 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no configured subnet or ip-range contain the IP address 10\.61\.0\.5/);
    assert.notEqual((await w.daemon.berth(['inspect', 'outside'])).code, 0, 'no container made');

    ok(await w.daemon.berth(['run', '-d', '--name', 'pa', '--network', 'fixnet', '--ip', '10.60.0.50', '--network-alias', 'alpha', 'busybox', 'sleep', '100000']), 'run pa');
    ok(await m.daemon.berth(['run', '-d', '--name', 'pb', 'busybox', 'sleep', '100000']), 'run pb');
    ok(await m.daemon.berth(['network', 'connect', '--ip', '10.60.0.60', '--alias', 'beta', '--alias', 'bee', 'fixnet', 'pb']), 'connect pb');
    // connect returns once the interface is up.
    assert.match(ok(await m.daemon.berth(['exec', 'pb', 'ip', '-o', 'addr']), 'ip addr pb'), / 10\.60\.0\.60\/24 /);
    const onNet = async (h: SwarmHost, ctr: string) => JSON.parse(ok(await h.daemon.berth(['inspect', ctr]), `inspect ${ctr}`))[0].NetworkSettings.Networks.fixnet;
    await until(async () => (await w.daemon.berth(['exec', 'pa', 'ip', '-o', 'addr'])).stdout.includes(' 10.60.0.50/24 '), 30_000, 300);
    const a = await onNet(w, 'pa');
    assert.equal(a.IPAddress, '10.60.0.50');
    assert.deepEqual(a.IPAMConfig, { IPv4Address: '10.60.0.50' });
    assert.deepEqual(a.Aliases, ['alpha']);
    assert.ok(a.DNSNames.includes('alpha'), JSON.stringify(a.DNSNames));
    const b = await onNet(m, 'pb');
    assert.equal(b.IPAddress, '10.60.0.60');
    assert.deepEqual(b.Aliases, ['beta', 'bee']);

    // The aliases resolve across hosts (the embedded DNS), and lead there.
    const lookup = async (h: SwarmHost, ctr: string, name: string) => {
      const out = (await h.daemon.berth(['exec', ctr, 'nslookup', name])).stdout;
      return [...out.split(/\n\n/).slice(1).join('\n').matchAll(/Address:\s*([0-9.]+)/g)].map((x) => x[1]!).sort();
    };
    await until(async () => (await lookup(m, 'pb', 'alpha')).join() === '10.60.0.50', 15_000, 300);
    await until(async () => (await lookup(w, 'pa', 'bee')).join() === '10.60.0.60', 15_000, 300);
    assert.deepEqual(await lookup(w, 'pa', 'beta'), ['10.60.0.60']);
    ok(await m.daemon.berth(['exec', 'pb', 'ping', '-c', '1', '-W', '2', 'alpha']), 'ping alpha from the manager');
    // A task on the network (on the manager) resolves the worker's container by its alias.
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'asker', '--network', 'fixnet', '--constraint', 'node.role==manager', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'create asker');
    let task = '';
    await until(async () => {
      task = (await m.daemon.berth(['ps', '-q', '--filter', 'label=com.docker.swarm.service.name=asker'])).stdout.trim();
      return !!task && (await lookup(m, task, 'alpha')).join() === '10.60.0.50';
    }, 30_000, 300);

    // Taken (by a container, the gateway): docker's error, on either node; the container keeps none of it.
    r = await m.daemon.berth(['run', '-d', '--network', 'fixnet', '--ip', '10.60.0.50', 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Address already in use/);
    ok(await w.daemon.berth(['run', '-d', '--name', 'pc', 'busybox', 'sleep', '100000']), 'run pc');
    for (const ip of ['10.60.0.60', '10.60.0.1']) {
      r = await w.daemon.berth(['network', 'connect', '--ip', ip, 'fixnet', 'pc']);
      assert.notEqual(r.code, 0, `connect --ip ${ip}`);
      assert.match(r.stderr, /Address already in use/);
    }
    assert.equal(await onNet(w, 'pc'), undefined, 'pc is not on fixnet');
    // Freed with its container: the address may be asked for again.
    ok(await w.daemon.berth(['rm', '-f', 'pa']), 'rm pa');
    await until(async () => (await w.daemon.berth(['network', 'connect', '--ip', '10.60.0.50', '--alias', 'alpha', 'fixnet', 'pc'])).code === 0, 20_000, 500);
    assert.equal((await onNet(w, 'pc')).IPAddress, '10.60.0.50');
    await until(async () => (await lookup(m, 'pb', 'alpha')).join() === '10.60.0.50', 15_000, 300);
    ok(await m.daemon.berth(['service', 'rm', 'asker']), 'rm asker');
    ok(await m.daemon.berth(['rm', '-f', 'pb']), 'rm pb');
    ok(await w.daemon.berth(['rm', '-f', 'pc']), 'rm pc');
  });

  test('stack deploy: deploy.placement.max_replicas_per_node is the service\'s MaxReplicas', async () => {
    fs.writeFileSync(path.join(dir, 'stack.yml'), `version: "3.8"
services:
  one:
    image: busybox
    command: sleep 100000
    stop_grace_period: 1s
    deploy:
      replicas: 3
      placement:
        max_replicas_per_node: 1
`);
    ok(await m.daemon.berth(['stack', 'deploy', '-c', path.join(dir, 'stack.yml'), 'pl']), 'stack deploy');
    const spec = JSON.parse(ok(await m.daemon.berth(['service', 'inspect', 'pl_one']), 'inspect'))[0].Spec;
    assert.equal(spec.TaskTemplate.Placement.MaxReplicas, 1);
    await settle('pl_one', 2, 1, 1);
    await until(async () => (await placement('pl_one')).pending[0]?.Status.Err === MAX_EXPLAIN, 10_000, 300);
    ok(await m.daemon.berth(['stack', 'rm', 'pl']), 'stack rm');
    await until(async () => (await m.daemon.berth(['service', 'inspect', 'pl_one'])).code !== 0, 10_000, 300);
  });
});
