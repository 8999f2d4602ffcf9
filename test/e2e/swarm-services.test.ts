// Swarm services on a manager and a worker (network namespaces on a test
// bridge): global mode, host-mode published ports, mounts and resource
// limits on the task containers, reservations no node can meet, inspect
// --pretty, the docker CLI as a client, node ps, and a manager restart that
// keeps the cluster and its services.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { SwarmLab, type SwarmHost } from '../helpers/swarm-lab.js';
import { until, type RunResult } from '../helpers/daemon.js';
import { TestRegistry } from '../helpers/registry.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const lab = new SwarmLab();
let registry: TestRegistry | undefined;
const regDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swreg-'));
let m: SwarmHost;
let w: SwarmHost;

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function tasks(service: string): Promise<any[]> {
  const r = await m.daemon.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service], 'desired-state': ['running'] }))}`);
  assert.equal(r.status, 200, r.body);
  return r.json();
}

async function containerOf(h: SwarmHost, service: string): Promise<any> {
  const list = (await h.daemon.api('GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.swarm.service.name=${service}`] }))}`)).json() as any[];
  assert.equal(list.length, 1, `${h.name}: ${JSON.stringify(list.map((c) => c.Names))}`);
  return (await h.daemon.api('GET', `/containers/${list[0].Id}/json`)).json();
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

describe('swarm services: manager + worker', { timeout: 240_000 }, () => {
  before(async () => {
    await lab.setup(2);
    [m, w] = lab.hosts as [SwarmHost, SwarmHost];
    // A registry the hosts reach on the lab bridge, for a node that has to pull a task's image.
    registry = new TestRegistry(regDir, {}, { addr: lab.gateway });
    await registry.start();
    await lab.startAll(['--insecure-registry', registry.host]);
    for (const h of lab.hosts) await h.daemon.makeBusybox();
    await lab.formSwarm();
  });
  after(async () => {
    await lab.cleanup();
    await registry?.stop();
    fs.rmSync(regDir, { recursive: true, force: true });
  });

  test('a node without the image pulls it before it starts the task', async () => {
    const ref = `${registry!.host}/team/bb:1`;
    ok(await m.daemon.berth(['tag', 'busybox', ref]), 'tag');
    ok(await m.daemon.berth(['push', ref]), 'push');
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'pulled', '--constraint', 'node.hostname==node2', '--stop-grace-period', '1s', ref, 'sleep', '100000']), 'create');
    await until(async () => (await tasks('pulled')).some((t) => t.Status.State === 'running'), 60_000, 300);
    const imgs = ok(await w.daemon.berth(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'images');
    assert.match(imgs, new RegExp(`^${registry!.host.replace(/\./g, '\\.')}/team/bb:1$`, 'm'));
    ok(await m.daemon.berth(['service', 'rm', 'pulled']), 'rm');
  });

  test('a global service runs one task per node, and a drained node loses its task', async () => {
    ok(await m.daemon.berth(['service', 'create', '-d', '--mode', 'global', '--name', 'agent', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'create');
    await until(async () => (await tasks('agent')).filter((t) => t.Status.State === 'running').length === 2, 30_000, 300);
    const ls = ok(await m.daemon.berth(['service', 'ls']), 'ls');
    assert.match(ls, /agent +global +2\/2 +busybox/);
    ok(await m.daemon.berth(['node', 'update', '--availability', 'drain', 'node2']), 'drain');
    await until(async () => {
      const ts = await tasks('agent');
      return ts.length === 1 && ts[0].Status.State === 'running';
    }, 30_000, 300);
    ok(await m.daemon.berth(['node', 'update', '--availability', 'active', 'node2']), 'activate');
    await until(async () => (await tasks('agent')).filter((t) => t.Status.State === 'running').length === 2, 30_000, 300);
    const bad = await m.daemon.berth(['service', 'scale', 'agent=3']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim(), 'agent: scale can only be used with replicated or replicated-job mode');
    ok(await m.daemon.berth(['service', 'rm', 'agent']), 'rm');
  });

  test('a host-mode published port answers on the node running the task; mounts and limits reach the container', async () => {
    ok(
      await m.daemon.berth([
        'service', 'create', '-d', '--name', 'www', '--constraint', 'node.hostname==node2', '-p', 'published=8080,target=80,mode=host',
        '--mount', 'type=volume,source=wwwdata,target=/data', '--limit-memory', '64m', '--limit-cpu', '0.5', '--reserve-memory', '16m',
        '--stop-grace-period', '1s', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/data',
      ]),
      'create',
    );
    await until(async () => (await tasks('www')).some((t) => t.Status.State === 'running'), 30_000, 300);
    const c = await containerOf(w, 'www');
    assert.equal(c.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(c.HostConfig.NanoCpus, 5e8);
    assert.deepEqual(c.HostConfig.PortBindings['80/tcp'], [{ HostIp: '', HostPort: '8080' }]);
    const mount = c.Mounts.find((x: any) => x.Destination === '/data');
    assert.equal(mount?.Type, 'volume');
    assert.equal(mount?.Name, 'wwwdata');
    assert.ok(await until(async () => (await httpStatus(`http://${w.addr}:8080/`)) > 0, 15_000, 300));
    const ps = ok(await m.daemon.berth(['service', 'ls']), 'ls');
    assert.match(ps, /www +replicated +1\/1 +busybox +\*:8080->80\/tcp/);
    const pretty = ok(await m.daemon.berth(['service', 'inspect', '--pretty', 'www']), 'inspect --pretty');
    assert.match(pretty, /\nName:\t\twww\nService Mode:\tReplicated\n Replicas:\t1\n/);
    assert.match(pretty, /Placement:\n Constraints:\t\[node\.hostname==node2\]\n/);
    assert.match(pretty, /ContainerSpec:\n Image:\t\tbusybox\n Args:\t\thttpd -f -p 80 -h \/data\n/);
    assert.match(pretty, / Limits:\n {2}CPU:\t\t0\.5\n {2}Memory:\t64MiB\n/);
    assert.match(pretty, /Ports:\n PublishedPort = 8080\n {2}Protocol = tcp\n {2}TargetPort = 80\n {2}PublishMode = host\n/);
    ok(await m.daemon.berth(['service', 'rm', 'www']), 'rm');
  });

  test('a reservation no node can meet leaves the task pending with the reason', async () => {
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'huge', '--reserve-memory', '100000g', 'busybox', 'sleep', '1000']), 'create');
    const t = await until(async () => (await tasks('huge')).find((x) => x.Status.State === 'pending' && x.Status.Err), 15_000, 300);
    assert.equal(t!.Status.Err, 'no suitable node (insufficient resources on 2 nodes)');
    ok(await m.daemon.berth(['service', 'rm', 'huge']), 'rm');
  });

  test('bad service input gives docker\'s errors and creates nothing', async () => {
    let r = await m.daemon.berth(['service', 'create', '--mode', 'global', '--replicas', '2', 'busybox']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'replicas can only be used with replicated or replicated-job mode');
    r = await m.daemon.berth(['service', 'create', '-d', '--name', 'bad', '--constraint', 'node.hostname=node2', 'busybox']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /constraint expected one operator from ==, !=/);
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'dup', 'busybox', 'sleep', '1000']), 'create');
    r = await m.daemon.berth(['service', 'create', '-d', '--name', 'dup', 'busybox', 'sleep', '1000']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /name conflicts with an existing object/);
    r = await m.daemon.berth(['service', 'inspect', 'nope']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no such service: nope/);
    const names = ((await m.daemon.api('GET', '/services')).json() as any[]).map((s) => s.Spec.Name);
    assert.deepEqual(names, ['dup']);
    ok(await m.daemon.berth(['service', 'rm', 'dup']), 'rm');
  });

  test('the docker CLI creates, lists and inspects services and tasks', async () => {
    const id = ok(await m.daemon.docker(['service', 'create', '-d', '--no-resolve-image', '--name', 'dk', '--replicas', '2', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'docker service create').trim();
    assert.match(id, /^[a-z0-9]{25}$/);
    await until(async () => (await tasks('dk')).filter((t) => t.Status.State === 'running').length === 2, 30_000, 300);
    const ls = ok(await m.daemon.docker(['service', 'ls', '--format', '{{.Name}} {{.Mode}} {{.Replicas}}']), 'docker service ls');
    assert.match(ls, /^dk replicated 2\/2/m);
    const ps = ok(await m.daemon.docker(['service', 'ps', '--format', '{{.Name}} {{.DesiredState}} {{.CurrentState}}', 'dk']), 'docker service ps');
    const psLines = ps.trim().split('\n').sort();
    assert.equal(psLines.length, 2, ps);
    psLines.forEach((l, k) => assert.match(l, new RegExp(`^dk\\.${k + 1} Running Running `)));
    const nps = ok(await m.daemon.docker(['node', 'ps', '--filter', 'desired-state=running', '--format', '{{.Name}}', 'node2']), 'docker node ps');
    assert.equal(nps.trim().split('\n').length, 1);
    const info = ok(await m.daemon.docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.Nodes}} {{.Swarm.Managers}}']), 'docker info');
    assert.equal(info.trim(), 'active true 2 1');
    ok(await m.daemon.docker(['service', 'scale', '-d', 'dk=1']), 'docker service scale');
    await until(async () => (await tasks('dk')).length === 1, 30_000, 300);
    const berthPs = ok(await m.daemon.berth(['node', 'ps', 'node1']), 'berth node ps');
    assert.match(berthPs.split('\n')[0]!, /^ID +NAME +IMAGE +NODE +DESIRED STATE +CURRENT STATE +ERROR +PORTS$/);
  });

  test('service update rolls out task by task, rollback brings the old spec back', async () => {
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'roll', '--replicas', '3', '-e', 'V=1', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'create');
    await until(async () => (await tasks('roll')).filter((t) => t.Status.State === 'running').length === 3, 30_000, 300);
    ok(await m.daemon.berth(['service', 'update', '-d', '--env-add', 'V=2', '--update-parallelism', '1', '--update-delay', '1s', 'roll']), 'update');
    // Watch it: never more than one slot out of service at a time.
    const seen = new Map<string, number>();
    await until(async () => {
      const all = (await m.daemon.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: ['roll'] }))}`)).json() as any[];
      const live = all.filter((t) => t.DesiredState === 'running');
      const down = [1, 2, 3].filter((slot) => !live.some((t) => t.Slot === slot && t.Status.State === 'running'));
      assert.ok(down.length <= 1, `slots ${down} down at once`);
      for (const t of live) if (t.Spec.ContainerSpec.Env.includes('V=2') && t.Status.State === 'running' && !seen.has(t.ID)) seen.set(t.ID, Date.now());
      return live.length === 3 && live.every((t) => t.Spec.ContainerSpec.Env.includes('V=2') && t.Status.State === 'running');
    }, 60_000, 200);
    const times = [...seen.values()].sort((a, b) => a - b);
    assert.equal(times.length, 3);
    assert.ok(times[2]! - times[0]! >= 2000, `batches 1s apart: ${times.map((t) => t - times[0]!)}`);
    const svc = (await m.daemon.api('GET', '/services/roll')).json();
    assert.equal(svc.UpdateStatus.State, 'completed');
    assert.deepEqual(svc.PreviousSpec.TaskTemplate.ContainerSpec.Env, ['V=1']);
    const ps = ok(await m.daemon.berth(['service', 'ps', 'roll']), 'ps');
    assert.equal((ps.match(/ \\_ roll\.\d/g) ?? []).length, 3, ps);
    const out = ok(await m.daemon.berth(['service', 'rollback', 'roll']), 'rollback');
    assert.match(out, /^roll\n[\s\S]*verify: Service [a-z0-9]{25} converged \n$/);
    const back = (await tasks('roll')).filter((t) => t.Status.State === 'running');
    assert.equal(back.length, 3);
    assert.ok(back.every((t) => JSON.stringify(t.Spec.ContainerSpec.Env) === '["V=1"]'));
    assert.equal((await m.daemon.api('GET', '/services/roll')).json().UpdateStatus.State, 'rollback_completed');
  });

  test('a failing update pauses, or rolls back with --update-failure-action rollback', async () => {
    let r = await m.daemon.berth(['service', 'update', '--args', 'false', '--restart-delay', '100ms', 'roll']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^service update paused: update paused due to failure or early termination of task [a-z0-9]{25}\n$/);
    assert.equal((await m.daemon.api('GET', '/services/roll')).json().UpdateStatus.State, 'paused');
    ok(await m.daemon.berth(['service', 'rollback', 'roll']), 'rollback');
    r = await m.daemon.berth(['service', 'update', '--args', 'false', '--update-failure-action', 'rollback', 'roll']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /rollback: update rolled back due to failure or early termination of task [a-z0-9]{25}\n/);
    const svc = (await m.daemon.api('GET', '/services/roll')).json();
    assert.equal(svc.UpdateStatus.State, 'rollback_completed');
    assert.deepEqual(svc.Spec.TaskTemplate.ContainerSpec.Args, ['sleep', '100000']);
    assert.equal((await tasks('roll')).filter((t) => t.Status.State === 'running').length, 3);
    ok(await m.daemon.berth(['service', 'rm', 'roll']), 'rm');
  });

  test('secrets and configs: encrypted in etcd, mounted into the tasks that use them', async () => {
    const sid = ok(await m.daemon.berth(['secret', 'create', '-l', 'env=test', 'dbpass', '-'], { input: 'pl41nt3xt-s3cret' }), 'secret create').trim();
    assert.match(sid, /^[a-z0-9]{25}$/);
    ok(await m.daemon.berth(['config', 'create', 'appconf', '-'], { input: 'listen=8080\n' }), 'config create');
    assert.match(ok(await m.daemon.berth(['secret', 'ls']), 'secret ls'), /^ID +NAME +DRIVER +CREATED +UPDATED\n[a-z0-9]{25} +dbpass +\S* *(Less than a second|\d+ seconds?) ago/);
    const inspect = JSON.parse(ok(await m.daemon.berth(['secret', 'inspect', 'dbpass']), 'secret inspect'))[0];
    assert.equal(inspect.Spec.Data, undefined);
    assert.deepEqual(inspect.Spec.Labels, { env: 'test' });
    assert.match(ok(await m.daemon.berth(['config', 'inspect', '--pretty', 'appconf']), 'config inspect'), /Name: +appconf\n[\s\S]*Data:\nlisten=8080\n/);
    ok(await m.daemon.berth([
      'service', 'create', '-d', '--name', 'sec', '--constraint', 'node.hostname==node2', '--secret', 'dbpass', '--config', 'source=appconf,target=/etc/app.conf,mode=0400',
      '--stop-grace-period', '1s', 'busybox', 'sh', '-c', 'cat /run/secrets/dbpass; echo; cat /etc/app.conf; stat -c %a /etc/app.conf; sleep 100000',
    ]), 'service create');
    const logs = await until(async () => {
      const out = ok(await m.daemon.berth(['service', 'logs', '--raw', 'sec']), 'logs');
      return out.includes('400') ? out : undefined;
    }, 30_000, 300);
    assert.equal(logs, 'pl41nt3xt-s3cret\nlisten=8080\n400\n');
    // etcd's files never hold the secret in clear.
    const { execFileSync } = await import('node:child_process');
    const grep = (dir: string) => { try { return execFileSync('/bin/grep', ['-rl', 'pl41nt3xt-s3cret', dir], { encoding: 'utf8' }); } catch { return ''; } };
    assert.equal(grep(`${m.daemon.dataRoot}/swarm/etcd`), '');
    // Only the node running the task got it.
    assert.equal(grep(`${m.daemon.execRoot}`), '');
    let r = await m.daemon.berth(['secret', 'rm', 'dbpass']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), "Error response from daemon: rpc error: code = InvalidArgument desc = secret 'dbpass' is in use by the following service: sec");
    r = await m.daemon.berth(['service', 'create', '-d', '--secret', 'nope', 'busybox']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'secret not found: nope');
    ok(await m.daemon.berth(['service', 'rm', 'sec']), 'service rm');
    assert.equal(ok(await m.daemon.berth(['secret', 'rm', 'dbpass']), 'secret rm'), 'dbpass\n');
    ok(await m.daemon.berth(['config', 'rm', 'appconf']), 'config rm');
    assert.equal(ok(await m.daemon.berth(['secret', 'ls', '-q']), 'ls'), '');
  });

  test('a manager restarted keeps the swarm, its services and running tasks', async () => {
    const before = (await tasks('dk')).map((t) => t.ID);
    await m.daemon.stop();
    await m.daemon.start();
    const info = await until(async () => {
      const r = await m.daemon.api('GET', '/info');
      const s = r.json().Swarm;
      return s.LocalNodeState === 'active' && s.ControlAvailable && s.Nodes === 2 ? s : undefined;
    }, 30_000, 300);
    assert.ok(info);
    await until(async () => ((await m.daemon.api('GET', '/nodes')).json() as any[]).filter((n) => n.Status.State === 'ready').length === 2, 30_000, 300);
    const after = await until(async () => {
      const ts = await tasks('dk');
      return ts.length === 1 && ts[0].Status.State === 'running' ? ts : undefined;
    }, 30_000, 300);
    assert.deepEqual(after!.map((t) => t.ID), before);
    assert.match(ok(await m.daemon.berth(['node', 'ls']), 'node ls'), /node1 +Ready +Active +Leader/);
  });
});
