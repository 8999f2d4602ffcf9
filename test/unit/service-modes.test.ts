// `service create/update` flags for job modes and health checks, and the
// `service ls` MODE / REPLICAS columns, against docker/cli's opts.go,
// update.go and formatter.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../src/cli/flags.js';
import { SERVICE_FLAGS, SERVICE_UPDATE_FLAGS, applyServiceUpdate, buildServiceSpec } from '../../src/cli/serviceopts.js';
import { ServiceContext } from '../../src/cli/format/swarm.js';

const create = (argv: string[]) => {
  const r = parseArgs({ use: 'create', short: '', flags: SERVICE_FLAGS, args: { kind: 'min', n: 1 }, stopAtFirstArg: true }, 'berth service create', argv);
  return buildServiceSpec(r.flags, r.args);
};
const update = (spec: Record<string, any>, argv: string[]) => {
  const r = parseArgs({ use: 'update', short: '', flags: SERVICE_UPDATE_FLAGS, args: { kind: 'exact', n: 1 } }, 'berth service update', [...argv, 'svc']);
  applyServiceUpdate(spec, r.flags);
  return spec;
};

test('job modes: --replicas is the completions, --max-concurrent defaults to it; no update/rollback config', () => {
  const rj = create(['--mode', 'replicated-job', '--replicas', '4', '--max-concurrent', '2', 'busybox']);
  assert.deepEqual(rj.Mode, { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 4 } });
  assert.equal(rj.UpdateConfig, undefined);
  assert.equal(rj.RollbackConfig, undefined);
  assert.deepEqual(create(['--mode', 'replicated-job', '--replicas', '3', 'busybox']).Mode, { ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 3 } });
  assert.deepEqual(create(['--mode', 'global-job', 'busybox']).Mode, { GlobalJob: {} });
  assert.throws(() => create(['--mode', 'global-job', '--replicas', '2', 'busybox']), /^Error: replicas can only be used with replicated or replicated-job mode$/);
  assert.throws(() => create(['--max-concurrent', '2', 'busybox']), /^Error: max-concurrent can only be used with replicated-job mode$/);
  assert.throws(() => create(['--mode', 'replicated-job', '--rollback-order', 'start-first', 'busybox']), /^Error: update and rollback configuration is not supported for jobs$/);
  const job = create(['--mode', 'replicated-job', 'busybox']);
  assert.throws(() => update(job, ['--update-parallelism', '2']), /update and rollback configuration is not supported for jobs/);
  assert.deepEqual(update(job, ['--replicas', '5', '--max-concurrent', '1']).Mode, { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 5 } });
  assert.equal(job.UpdateConfig, undefined, 'update without rollout flags adds no UpdateConfig');
  assert.equal(create(['--update-order', 'start-first', 'busybox']).UpdateConfig.Order, 'start-first');
});

test('health flags on create and update (docker/cli updateHealthcheck)', () => {
  const s = create(['--health-cmd', 'true', '--health-interval', '2s', '--health-start-interval', '100ms', 'busybox']);
  assert.deepEqual(s.TaskTemplate.ContainerSpec.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 2e9, StartInterval: 1e8 });
  update(s, ['--health-retries', '2']);
  assert.deepEqual(s.TaskTemplate.ContainerSpec.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 2e9, StartInterval: 1e8, Retries: 2 });
  update(s, ['--no-healthcheck']);
  assert.deepEqual(s.TaskTemplate.ContainerSpec.Healthcheck, { Test: ['NONE'] });
  update(s, ['--health-cmd', 'false']);
  assert.deepEqual(s.TaskTemplate.ContainerSpec.Healthcheck, { Test: ['CMD-SHELL', 'false'] });
  assert.throws(() => create(['--no-healthcheck', '--health-cmd', 'x', 'busybox']), /--no-healthcheck conflicts with --health-\* options/);
});

test('service ls MODE and REPLICAS for jobs (docker/cli formatter)', () => {
  const row = (Mode: any, st: any) => new ServiceContext({ ID: 'x', Spec: { Name: 'x', Mode }, ServiceStatus: st });
  const rj = row({ ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 4 } }, { RunningTasks: 2, DesiredTasks: 2, CompletedTasks: 0 });
  assert.equal(rj.Mode(), 'replicated job');
  assert.equal(rj.Replicas(), '2/2 (0/4 completed)');
  const gj = row({ GlobalJob: {} }, { RunningTasks: 1, DesiredTasks: 1, CompletedTasks: 2 });
  assert.equal(gj.Mode(), 'global job');
  assert.equal(gj.Replicas(), '1/1 (2/3 completed)');
  assert.equal(row({ Replicated: { Replicas: 2 } }, { RunningTasks: 0, DesiredTasks: 2 }).Replicas(), '0/2');
});
