// How swarm tasks live, on a manager and a worker (network namespaces on a
// test bridge): health checks gate a task (`starting` until healthy, failed
// and replaced once unhealthy, and only healthy tasks behind the service's VIP
// and `tasks.<name>`), `--update-order/--rollback-order start-first`, and job
// modes (replicated-job with --max-concurrent, global-job, re-runs, scale).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SwarmLab, type SwarmHost } from '../helpers/swarm-lab.js';
import { until, type RunResult } from '../helpers/daemon.js';

const lab = new SwarmLab();
let m: SwarmHost;
let w: SwarmHost;
let client = '';

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function tasks(service: string): Promise<any[]> {
  const r = await m.daemon.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service] }))}`);
  assert.equal(r.status, 200, r.body);
  return r.json() as any[];
}

const live = async (service: string) => (await tasks(service)).filter((t) => t.DesiredState === 'running');

/** The container of task `t` on host `h`. */
async function containerOfTask(h: SwarmHost, t: any): Promise<string> {
  const list = (await h.daemon.api('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.swarm.task.id=${t.ID}`] }))}`)).json() as any[];
  assert.equal(list.length, 1, `${h.name}: container of task ${t.ID}`);
  return list[0].Id;
}

/** The REPLICAS column of `service ls` for one service. */
async function replicas(service: string): Promise<string> {
  return ok(await m.daemon.berth(['service', 'ls', '--filter', `name=${service}`, '--format', '{{.Name}}|{{.Mode}}|{{.Replicas}}']), 'service ls').trim();
}

/** What `nslookup name` answers in the client container (sorted addresses; none for NXDOMAIN). */
async function resolve(name: string): Promise<string[]> {
  const r = await m.daemon.berth(['exec', client, 'nslookup', name]);
  return [...r.stdout.split(/\n\n/).slice(1).join('\n').matchAll(/Address:\s*([0-9.]+)/g)].map((x) => x[1]!).sort();
}

const ipOn = (t: any, net: string) => String(t.NetworksAttachments.find((a: any) => a.Network.Spec.Name === net).Addresses[0]).split('/')[0]!;

describe('swarm tasks: health, start-first, jobs (manager + worker)', { timeout: 240_000 }, () => {
  before(async () => {
    await lab.setup(2);
    [m, w] = lab.hosts as [SwarmHost, SwarmHost];
    await lab.startAll();
    for (const h of lab.hosts) await h.daemon.makeBusybox();
    await lab.formSwarm();
  });
  after(async () => {
    await lab.cleanup();
  });

  test('a health check gates a task: starting until healthy, failed and replaced when unhealthy, only healthy tasks behind the VIP and tasks.<name>', async () => {
    ok(await m.daemon.berth(['network', 'create', '-d', 'overlay', 'tnet']), 'network create');
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'cli', '--network', 'tnet', '--constraint', 'node.hostname==node1', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'create cli');
    // Healthy once /tmp/ok exists; within the start period failed probes do not count, after it one failure is enough.
    ok(await m.daemon.berth([
      'service', 'create', '-d', '--name', 'hc', '--replicas', '2', '--network', 'tnet', '--constraint', 'node.hostname==node2', '--stop-grace-period', '8s', '--restart-delay', '1s',
      '--health-cmd', 'test -f /tmp/ok', '--health-interval', '1s', '--health-start-interval', '300ms', '--health-start-period', '90s', '--health-retries', '1',
      'busybox', 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www',
    ]), 'create hc');
    await until(async () => (await live('cli')).some((t) => t.Status.State === 'running'), 60_000, 300);
    client = (((await m.daemon.api('GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: ['com.docker.swarm.service.name=cli'] }))}`)).json() as any[])[0]).Id;
    await until(async () => (await live('hc')).filter((t) => t.Status.State === 'starting').length === 2, 60_000, 300);
    // Still starting a while later: no probe has passed.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual((await live('hc')).map((t) => t.Status.State), ['starting', 'starting']);
    assert.equal(await replicas('hc'), 'hc|replicated|0/2');
    const ps = ok(await m.daemon.berth(['service', 'ps', '--format', '{{.Name}} {{.DesiredState}} {{.CurrentState}}', 'hc']), 'ps');
    assert.match(ps, /^hc\.1 Running Starting .* ago$/m);
    assert.match(ps, /^hc\.2 Running Starting .* ago$/m);
    assert.deepEqual(await resolve('tasks.hc'), [], 'no healthy task yet');

    // One task turns healthy: it runs, and it alone answers for the service.
    const [t1, t2] = (await live('hc')).sort((a, b) => a.Slot - b.Slot);
    const c1 = await containerOfTask(w, t1);
    ok(await w.daemon.berth(['exec', c1, 'touch', '/tmp/ok']), 'touch');
    await until(async () => (await live('hc')).find((t) => t.ID === t1.ID)?.Status.State === 'running', 20_000, 200);
    assert.equal((await live('hc')).find((t) => t.ID === t2.ID)?.Status.State, 'starting');
    assert.equal(await replicas('hc'), 'hc|replicated|1/2');
    const healthyIp = ipOn(t1, 'tnet');
    await until(async () => JSON.stringify(await resolve('tasks.hc')) === JSON.stringify([healthyIp]), 20_000, 500);
    const name1 = ok(await w.daemon.berth(['exec', c1, 'hostname']), 'hostname').trim();
    const viaVip = async () => (await m.daemon.berth(['exec', client, 'wget', '-q', '-O-', 'http://hc/'])).stdout.trim();
    await until(async () => (await viaVip()) === name1, 20_000, 300);
    for (let i = 0; i < 6; i++) {
      const r = await m.daemon.berth(['exec', client, 'wget', '-q', '-O-', 'http://hc/']);
      assert.equal(r.stdout.trim(), name1, `request ${i} through the VIP: ${r.stderr}`);
    }

    // It turns unhealthy: it stops answering for the service at once, while its container is being stopped
    // (httpd ignores SIGTERM as PID 1: killed after the 8 s grace period); the task then fails with moby's
    // error, and a new task takes the slot.
    ok(await w.daemon.berth(['exec', c1, 'rm', '/tmp/ok']), 'rm');
    await until(async () => (await resolve('tasks.hc')).length === 0, 7_000, 200);
    assert.equal((await tasks('hc')).find((t) => t.ID === t1.ID)?.Status.State, 'running', 'out of the backends before its container exited');
    assert.ok(await until(async () => !(await viaVip()), 5_000, 200), 'the VIP has no backend left');
    const failed = await until(async () => (await tasks('hc')).find((t) => t.ID === t1.ID && t.Status.State === 'failed'), 30_000, 200);
    assert.match(failed.Status.Err, /^task: non-zero exit \(\d+\): dockerexec: unhealthy container$/);
    const inspect = (await w.daemon.api('GET', `/containers/${c1}/json`)).json();
    assert.equal(inspect.State.Running, false);
    assert.equal(inspect.State.Health.Status, 'unhealthy');
    await until(async () => (await live('hc')).some((t) => t.Slot === t1.Slot && t.ID !== t1.ID), 30_000, 300);
    assert.equal(await replicas('hc'), 'hc|replicated|0/2');
    const psAll = ok(await m.daemon.berth(['service', 'ps', '--no-trunc', '--format', '{{.Name}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}', 'hc']), 'ps');
    assert.match(psAll, /^ \\_ hc\.1\|Shutdown\|Failed .* ago\|"task: non-zero exit \(\d+\): dockerexec: unhealthy container"$/m);
    assert.deepEqual(await resolve('tasks.hc'), []);
    ok(await m.daemon.berth(['service', 'rm', 'hc', 'cli']), 'rm');
  });

  test('--update-order / --rollback-order start-first: the new task starts (and turns healthy) before the old one stops', async () => {
    ok(await m.daemon.berth([
      'service', 'create', '-d', '--name', 'sf', '--update-order', 'start-first', '--rollback-order', 'start-first', '--stop-grace-period', '1s',
      '--health-cmd', 'test -f /tmp/ok', '--health-interval', '1s', '--health-start-interval', '200ms', '--health-start-period', '60s',
      'busybox', 'sh', '-c', 'sleep 2; touch /tmp/ok; exec sleep 100000',
    ]), 'create');
    const pretty = ok(await m.daemon.berth(['service', 'inspect', '--pretty', 'sf']), 'inspect');
    assert.match(pretty, /^ Update order: {6}start-first$/m);
    assert.match(pretty, /^ Rollback order: {4}start-first$/m);
    const first = await until(async () => (await live('sf')).find((t) => t.Status.State === 'running'), 60_000, 200);
    const bad = await m.daemon.berth(['service', 'update', '-d', '--update-order', 'sideways', 'sf']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unrecognized update order sideways/);

    /** During the rollout: the old task still runs while its replacement is starting; afterwards the old one stopped after the new one ran. */
    const rollout = async (old: any, args: string[]) => {
      ok(await m.daemon.berth(args), args.join(' '));
      const overlap = await until(async () => {
        const ts = await live('sf');
        const o = ts.find((t) => t.ID === old.ID);
        const n = ts.find((t) => t.ID !== old.ID);
        return o?.Status.State === 'running' && n && ['starting', 'preparing', 'ready', 'assigned', 'accepted'].includes(n.Status.State) ? n : undefined;
      }, 30_000, 100);
      const done = (await until(async () => {
        const ts = await tasks('sf');
        const n = ts.find((t) => t.ID === overlap.ID);
        const o = ts.find((t) => t.ID === old.ID);
        return n?.Status.State === 'running' && o?.Status.State === 'shutdown' ? { n, o } : undefined;
      }, 30_000, 200))!;
      assert.equal(done.n.Slot, old.Slot);
      assert.ok(Date.parse(done.o.Status.Timestamp) >= Date.parse(done.n.Status.Timestamp), `old shut down at ${done.o.Status.Timestamp}, new running at ${done.n.Status.Timestamp}`);
      return done.n;
    };
    const second = await rollout(first, ['service', 'update', '-d', '--env-add', 'V=2', 'sf']);
    await until(async () => (await m.daemon.api('GET', '/services/sf')).json().UpdateStatus?.State === 'completed', 30_000, 300);
    await rollout(second, ['service', 'rollback', '-d', 'sf']);
    await until(async () => (await m.daemon.api('GET', '/services/sf')).json().UpdateStatus?.State === 'rollback_completed', 30_000, 300);
    ok(await m.daemon.berth(['service', 'rm', 'sf']), 'rm');
  });

  test('replicated-job: at most --max-concurrent at once until --replicas completed, never restarted; scale and --force run it again', async () => {
    const r = await m.daemon.berth(['service', 'create', '-d', '--name', 'bad', '--mode', 'replicated-job', '--update-order', 'start-first', 'busybox', 'true']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'update and rollback configuration is not supported for jobs');
    const r2 = await m.daemon.berth(['service', 'create', '-d', '--name', 'bad', '--max-concurrent', '2', 'busybox', 'true']);
    assert.equal(r2.code, 1);
    assert.equal(r2.stderr.trim(), 'max-concurrent can only be used with replicated-job mode');

    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'rj', '--mode', 'replicated-job', '--replicas', '4', '--max-concurrent', '2', 'busybox', 'sleep', '1']), 'create');
    const spec = (await m.daemon.api('GET', '/services/rj')).json();
    assert.deepEqual(spec.Spec.Mode, { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 4 } });
    assert.equal(spec.Spec.TaskTemplate.RestartPolicy.Condition, 'on-failure');
    assert.equal(spec.Spec.UpdateConfig, undefined);
    const iteration = spec.JobStatus.JobIteration.Index;
    let most = 0;
    await until(async () => {
      const ts = await tasks('rj');
      most = Math.max(most, ts.filter((t) => t.Status.State !== 'complete').length);
      return ts.filter((t) => t.Status.State === 'complete').length === 4;
    }, 60_000, 150);
    assert.ok(most >= 1 && most <= 2, `at most 2 at once (saw ${most})`);
    // Done: nothing is restarted or added.
    await new Promise((res) => setTimeout(res, 2000));
    const ts = await tasks('rj');
    assert.equal(ts.length, 4);
    assert.deepEqual(ts.map((t) => t.Slot).sort(), [0, 1, 2, 3]);
    assert.ok(ts.every((t) => t.DesiredState === 'complete' && t.JobIteration.Index === iteration));
    assert.equal(await replicas('rj'), 'rj|replicated job|0/0 (4/4 completed)');
    // The docker CLI as a client reads the same from the API.
    assert.equal(ok(await m.daemon.docker(['service', 'ls', '--filter', 'name=rj', '--format', '{{.Mode}}|{{.Replicas}}']), 'docker service ls').trim(), 'replicated job|0/0 (4/4 completed)');
    const ps = ok(await m.daemon.berth(['service', 'ps', '--format', '{{.Name}}|{{.DesiredState}}|{{.CurrentState}}', 'rj']), 'ps');
    assert.equal(ps.trim().split('\n').length, 4);
    for (const l of ps.trim().split('\n')) assert.match(l, /^rj\.([1-3]|[0-9a-z]{25})\|Complete\|Complete .* ago$/);
    assert.match(ok(await m.daemon.berth(['service', 'ls', '--filter', 'mode=replicated-job', '-q']), 'ls mode'), new RegExp(`^${spec.ID.slice(0, 12)}$`, 'm'));

    // scale sets the completions and runs the job again; without -d the CLI follows it to its end.
    const scaled = ok(await m.daemon.berth(['service', 'scale', 'rj=2']), 'scale');
    assert.match(scaled, /^rj scaled to 2$/m);
    assert.match(scaled, /^job progress: 2 out of 2 complete$/m);
    assert.match(scaled, /^job complete$/m);
    const after1 = (await m.daemon.api('GET', '/services/rj')).json();
    assert.deepEqual(after1.Spec.Mode.ReplicatedJob, { MaxConcurrent: 2, TotalCompletions: 2 });
    assert.notEqual(after1.JobStatus.JobIteration.Index, iteration);
    assert.equal(await replicas('rj'), 'rj|replicated job|0/0 (2/2 completed)');
    // --force: another run.
    ok(await m.daemon.berth(['service', 'update', '--force', 'rj']), 'update --force');
    const after2 = (await m.daemon.api('GET', '/services/rj')).json();
    assert.notEqual(after2.JobStatus.JobIteration.Index, after1.JobStatus.JobIteration.Index);
    assert.equal((await tasks('rj')).filter((t) => t.JobIteration.Index === after2.JobStatus.JobIteration.Index && t.Status.State === 'complete').length, 2);

    // A failing job task is retried by its restart policy, up to --restart-max-attempts.
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'fj', '--mode', 'replicated-job', '--restart-delay', '100ms', '--restart-max-attempts', '1', 'busybox', 'sh', '-c', 'exit 3']), 'create fj');
    await until(async () => (await tasks('fj')).filter((t) => t.Status.State === 'failed').length === 2, 30_000, 200);
    await new Promise((res) => setTimeout(res, 1500));
    const fj = await tasks('fj');
    assert.equal(fj.length, 2);
    assert.ok(fj.every((t) => t.Slot === 0 && t.Status.Err === 'task: non-zero exit (3)'));
    assert.equal(await replicas('fj'), 'fj|replicated job|0/1 (0/1 completed)');
    ok(await m.daemon.berth(['service', 'rm', 'rj', 'fj']), 'rm');
  });

  test('global-job: one completed task per node; scale refused with docker\'s error', async () => {
    const out = ok(await m.daemon.berth(['service', 'create', '--name', 'gj', '--mode', 'global-job', 'busybox', 'true']), 'create');
    assert.match(out, /^job progress: 2 out of 2 complete$/m);
    assert.match(out, /^job complete$/m);
    const ts = await tasks('gj');
    assert.equal(ts.length, 2);
    assert.deepEqual(new Set(ts.map((t) => t.NodeID)).size, 2);
    assert.ok(ts.every((t) => t.Status.State === 'complete' && t.DesiredState === 'complete' && t.Slot === undefined));
    assert.equal(await replicas('gj'), 'gj|global job|0/0 (2/2 completed)');
    // docker's CLI follows a job until it completed, too.
    const dk = ok(await m.daemon.docker(['service', 'create', '--name', 'dgj', '--mode', 'global-job', 'busybox', 'true']), 'docker service create');
    assert.match(dk, /job complete/);
    assert.equal(ok(await m.daemon.docker(['service', 'ls', '--filter', 'name=dgj', '--format', '{{.Mode}}|{{.Replicas}}']), 'docker service ls').trim(), 'global job|0/0 (2/2 completed)');
    assert.match(ok(await m.daemon.berth(['service', 'inspect', '--pretty', 'gj']), 'inspect'), /^Service Mode:$/m);
    const bad = await m.daemon.berth(['service', 'scale', 'gj=3']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim(), 'gj: scale can only be used with replicated or replicated-job mode');
    const bad2 = await m.daemon.berth(['service', 'update', '--replicas', '3', 'gj']);
    assert.equal(bad2.code, 1);
    assert.equal(bad2.stderr.trim(), 'replicas can only be used with replicated or replicated-job mode');
    ok(await m.daemon.berth(['service', 'rm', 'gj', 'dgj']), 'rm');
  });
});
