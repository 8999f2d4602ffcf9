import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, until, sleep } from '../helpers/daemon.js';

// Health checks: HEALTHCHECK / --health-*, State.Health, ps status and filter, events, across a berthd restart.
const d = new TestDaemon();

before(async () => {
  await d.start();
  await d.makeBusybox();
});

after(async () => {
  await d.cleanup();
});

async function ok(args: string[]) {
  const r = await d.berth(args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r;
}

interface Health {
  Status: string;
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

async function health(name: string): Promise<Health | undefined> {
  const r = await ok(['inspect', '--format', '{{json .State.Health}}', name]);
  const v = JSON.parse(r.stdout) as Health | null;
  return v ?? undefined;
}

function waitStatus(name: string, status: string, ms = 15_000): Promise<Health> {
  return until(async () => {
    const h = await health(name);
    return h?.Status === status ? h : undefined;
  }, ms, 100) as Promise<Health>;
}

test('a passing check makes the container healthy: inspect, ps, filter, events, docker CLI', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  await ok(['run', '-d', '--name', 'hok', '--health-cmd', 'echo fine', '--health-interval', '200ms', 'busybox', 'sleep', '300']);
  const h = await waitStatus('hok', 'healthy');
  assert.equal(h.FailingStreak, 0);
  assert.ok(h.Log.length >= 1 && h.Log.length <= 5);
  const last = h.Log.at(-1)!;
  assert.equal(last.ExitCode, 0);
  assert.equal(last.Output, 'fine\n');
  assert.ok(Date.parse(last.End) >= Date.parse(last.Start));
  // The log keeps the last five results.
  await until(async () => (await health('hok'))!.Log.length === 5, 10_000);
  await sleep(500);
  assert.equal((await health('hok'))!.Log.length, 5);

  const ps = await ok(['ps', '--filter', 'name=hok', '--format', '{{.Status}}']);
  assert.match(ps.stdout, /^Up .* \(healthy\)\n$/);
  const f = await ok(['ps', '-q', '--filter', 'health=healthy']);
  assert.equal(f.stdout.trim().split('\n').length, 1);
  const none = await ok(['ps', '-q', '--filter', 'health=unhealthy']);
  assert.equal(none.stdout, '');
  const bad = await d.berth(['ps', '--filter', 'health=bogus']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'Error response from daemon: Unrecognised filter value for health: bogus\n');

  // health_status and the probe's exec events, with dockerd's action texts and attributes.
  const until_ = (Date.now() / 1000 + 0.5).toFixed(3);
  const ev = await ok(['events', '--since', since, '--until', until_, '--filter', 'container=hok', '--format', '{{.Action}}|{{.Actor.Attributes.execID}}|{{.Actor.Attributes.exitCode}}']);
  const actions = ev.stdout.trim().split('\n');
  assert.ok(actions.includes('health_status: healthy|<no value>|<no value>'), ev.stdout);
  const create = actions.find((a) => a.startsWith('exec_create: /bin/sh -c echo fine|'));
  assert.ok(create, ev.stdout);
  const execId = create!.split('|')[1]!;
  assert.match(execId, /^[0-9a-f]{64}$/);
  assert.ok(actions.includes(`exec_start: /bin/sh -c echo fine|${execId}|<no value>`), ev.stdout);
  assert.ok(actions.includes(`exec_die|${execId}|0`), ev.stdout);
  const hs = await ok(['events', '--since', since, '--until', until_, '--filter', 'event=health_status', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  assert.equal(hs.stdout, 'health_status: healthy hok\n');

  // The docker CLI reads the same.
  const dk = await d.docker(['inspect', '-f', '{{.State.Health.Status}}', 'hok']);
  assert.equal(dk.code, 0, dk.stderr);
  assert.equal(dk.stdout, 'healthy\n');
  const dps = await d.docker(['ps', '--filter', 'health=healthy', '--format', '{{.Names}} {{.Status}}']);
  assert.equal(dps.code, 0, dps.stderr);
  assert.match(dps.stdout, /^hok Up .* \(healthy\)\n$/);
  await ok(['rm', '-f', 'hok']);
});

test('user execs emit exec_create, exec_start and exec_die', async () => {
  await ok(['run', '-d', '--name', 'hex', 'busybox', 'sleep', '300']);
  const since = (Date.now() / 1000).toFixed(3);
  const r = await d.berth(['exec', 'hex', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3);
  const ev = await ok(['events', '--since', since, '--until', (Date.now() / 1000 + 0.3).toFixed(3), '--filter', 'container=hex', '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}']);
  assert.equal(ev.stdout, 'exec_create: sh -c exit 3 <no value>\nexec_start: sh -c exit 3 <no value>\nexec_die 3\n');
  // No health check configured: no State.Health, plain status.
  assert.equal(await health('hex'), undefined);
  const ps = await ok(['ps', '--filter', 'name=hex', '--format', '{{.Status}}']);
  assert.match(ps.stdout, /^Up [^(]*\n$/);
  assert.equal((await ok(['ps', '-q', '--filter', 'health=none', '--filter', 'name=hex'])).stdout.trim().length, 12);
  await ok(['rm', '-f', 'hex']);
});

test('failing checks make it unhealthy after the retries; timeouts and long output as dockerd records them', async () => {
  await ok(['run', '-d', '--name', 'hbad', '--health-cmd', 'echo nope; exit 1', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '300']);
  const h = await waitStatus('hbad', 'unhealthy');
  assert.ok(h.FailingStreak >= 2);
  assert.deepEqual(h.Log.slice(0, 2).map((e) => [e.ExitCode, e.Output]), [[1, 'nope\n'], [1, 'nope\n']]);
  const ps = await ok(['ps', '--filter', 'name=hbad', '--format', '{{.Status}}']);
  assert.match(ps.stdout, /^Up .* \(unhealthy\)\n$/);

  // CMD form, a timeout (the probe is killed) and the 4096-byte output cap.
  await ok(['run', '-d', '--name', 'hto', '--health-cmd', 'sleep 10', '--health-timeout', '300ms', '--health-interval', '200ms', '--health-retries', '1', 'busybox', 'sleep', '300']);
  const t = await waitStatus('hto', 'unhealthy');
  assert.deepEqual([t.Log[0]!.ExitCode, t.Log[0]!.Output], [-1, 'Health check exceeded timeout (300ms)']);
  assert.ok(Date.parse(t.Log[0]!.End) - Date.parse(t.Log[0]!.Start) < 5000);
  const api = await d.api('POST', '/containers/create?name=hbig', {
    Image: 'busybox',
    Cmd: ['sleep', '300'],
    Healthcheck: { Test: ['CMD', 'sh', '-c', 'head -c 5000 /dev/zero | tr "\\0" a'], Interval: 200_000_000 },
  });
  assert.equal(api.status, 201, api.body);
  await ok(['start', 'hbig']);
  const b = await waitStatus('hbig', 'healthy');
  assert.equal(b.Log[0]!.Output, 'a'.repeat(4096) + '...');
  // A command that cannot run: exit -1 with the runtime's message.
  const miss = await d.api('POST', '/containers/create?name=hmiss', {
    Image: 'busybox',
    Cmd: ['sleep', '300'],
    Healthcheck: { Test: ['CMD', '/nonexistent'], Interval: 200_000_000, Retries: 1 },
  });
  assert.equal(miss.status, 201, miss.body);
  await ok(['start', 'hmiss']);
  const m = await waitStatus('hmiss', 'unhealthy');
  assert.equal(m.Log[0]!.ExitCode, -1);
  assert.match(m.Log[0]!.Output, /^OCI runtime exec failed: .*no such file or directory.*: unknown$/);
  await ok(['rm', '-f', 'hbad', 'hto', 'hbig', 'hmiss']);
});

test('start period: failures do not count until it ends, a success ends it', async () => {
  await ok([
    'run', '-d', '--name', 'hsp', '--health-cmd', 'test -f /tmp/ready', '--health-interval', '200ms', '--health-retries', '1',
    '--health-start-period', '60s', '--health-start-interval', '200ms', 'busybox', 'sh', '-c', 'sleep 2; touch /tmp/ready; sleep 300',
  ]);
  const early = await ok(['ps', '--filter', 'name=hsp', '--format', '{{.Status}}']);
  assert.match(early.stdout, /^Up .* \(health: starting\)\n$/);
  const during = await until(async () => {
    const h = await health('hsp');
    return h && h.Log.length >= 2 && h.Log.every((e) => e.ExitCode === 1) ? h : undefined;
  }, 10_000);
  assert.equal(during!.Status, 'starting');
  assert.equal(during!.FailingStreak, 0);
  await waitStatus('hsp', 'healthy');
  // After the start period ended (by the success), one failure with retries=1 is unhealthy.
  await ok(['exec', 'hsp', 'rm', '/tmp/ready']);
  const h = await waitStatus('hsp', 'unhealthy');
  assert.equal(h.FailingStreak, 1);
  await ok(['rm', '-f', 'hsp']);
});

test('image HEALTHCHECK is used; --no-healthcheck and --health-* override it', async () => {
  await ok(['create', '--name', 'hbase', 'busybox']);
  await ok(['commit', '-c', 'HEALTHCHECK --interval=200ms --retries=1 CMD echo from-image', 'hbase', 'hcimg']);
  await ok(['rm', 'hbase']);
  const img = await ok(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', 'hcimg']);
  assert.deepEqual(JSON.parse(img.stdout).Test, ['CMD-SHELL', 'echo from-image']);

  await ok(['run', '-d', '--name', 'himg', 'hcimg', 'sleep', '300']);
  const h = await waitStatus('himg', 'healthy');
  assert.equal(h.Log[0]!.Output, 'from-image\n');

  await ok(['run', '-d', '--name', 'hnone', '--no-healthcheck', 'hcimg', 'sleep', '300']);
  await sleep(800);
  assert.equal(await health('hnone'), undefined);
  const cfg = await ok(['inspect', '--format', '{{json .Config.Healthcheck.Test}}', 'hnone']);
  assert.equal(cfg.stdout, '["NONE"]\n');
  const ps = await ok(['ps', '--filter', 'name=hnone', '--format', '{{.Status}}']);
  assert.match(ps.stdout, /^Up [^(]*\n$/);

  // --health-cmd replaces the image's test and keeps its interval.
  await ok(['run', '-d', '--name', 'hover', '--health-cmd', 'exit 1', 'hcimg', 'sleep', '300']);
  await waitStatus('hover', 'unhealthy');
  await ok(['rm', '-f', 'himg', 'hnone', 'hover']);
  await ok(['rmi', 'hcimg']);
});

test('probes stop on pause and stop, resume on unpause and start', async () => {
  await ok(['run', '-d', '--name', 'hlc', '--health-cmd', 'true', '--health-interval', '200ms', 'busybox', 'sleep', '300']);
  await waitStatus('hlc', 'healthy');
  await ok(['pause', 'hlc']);
  await sleep(300);
  const before = (await health('hlc'))!.Log.at(-1)!.Start;
  await sleep(800);
  assert.equal((await health('hlc'))!.Log.at(-1)!.Start, before, 'no probe while paused');
  const pps = await ok(['ps', '--filter', 'name=hlc', '--format', '{{.Status}}']);
  assert.match(pps.stdout, /\(Paused\)\n$/);
  await ok(['unpause', 'hlc']);
  await until(async () => (await health('hlc'))!.Log.at(-1)!.Start !== before, 5000);

  await ok(['stop', '-t', '1', 'hlc']);
  const stopped = (await health('hlc'))!;
  await sleep(600);
  assert.deepEqual((await health('hlc'))!.Log, stopped.Log, 'no probe while stopped');
  assert.match((await ok(['ps', '-a', '--filter', 'name=hlc', '--format', '{{.Status}}'])).stdout, /^Exited/);
  const since = (Date.now() / 1000).toFixed(3);
  await ok(['start', 'hlc']);
  // A start resets the status to starting (and keeps the log), as dockerd: healthy is announced again.
  await waitStatus('hlc', 'healthy');
  const ev = await until(async () => {
    const r = await ok(['events', '--since', since, '--until', (Date.now() / 1000).toFixed(3), '--filter', 'container=hlc', '--filter', 'event=health_status', '--format', '{{.Action}}']);
    return r.stdout || undefined;
  }, 5000);
  assert.equal(ev, 'health_status: healthy\n');
  await ok(['rm', '-f', 'hlc']);
});

test('health state survives a berthd restart and monitoring resumes for live-restored containers', async () => {
  await ok(['run', '-d', '--name', 'hrs', '--health-cmd', 'echo alive', '--health-interval', '200ms', 'busybox', 'sleep', '300']);
  await waitStatus('hrs', 'healthy');
  await d.kill9();
  await d.start();
  const after1 = (await health('hrs'))!;
  assert.ok(after1, 'State.Health kept');
  assert.ok(after1.Log.length >= 1);
  assert.equal(after1.Log[0]!.Output, 'alive\n');
  const restartAt = Date.now();
  const h = await waitStatus('hrs', 'healthy');
  await until(async () => Date.parse((await health('hrs'))!.Log.at(-1)!.Start) > restartAt, 5000);
  assert.equal(h.FailingStreak, 0);
  await ok(['rm', '-f', 'hrs']);
});
