// The scheduler's MaxReplicas filter (placeTask): no node gets more tasks of
// the service than Placement.MaxReplicas, and when none may take one,
// swarmkit's explanation with the other filters' reasons, most nodes first.
// A placement change alone leaves a task where it is (onlyPlacementChanged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eligibleNodes, onlyPlacementChanged, placeTask } from '../../src/daemon/services/swarm/scheduler.js';
import type { NodeRecord } from '../../src/daemon/services/swarm/model.js';
import { parseArgs } from '../../src/cli/flags.js';
import { SERVICE_FLAGS, SERVICE_UPDATE_FLAGS, applyServiceUpdate, buildServiceSpec } from '../../src/cli/serviceopts.js';

const node = (id: string, labels: Record<string, string> = {}) =>
  ({ ID: id, Spec: { Labels: labels, Role: 'worker', Availability: 'active' }, Description: { Hostname: id } }) as unknown as NodeRecord;

test('at most MaxReplicas per node; then swarmkit\'s reason', () => {
  const nodes = [node('a'), node('b')];
  const tmpl = { Placement: { MaxReplicas: 2 } };
  const elig = eligibleNodes(tmpl, nodes.map((n) => ({ node: n, ready: true })));
  const of = new Map<string, number>();
  for (let i = 0; i < 4; i++) {
    const p = placeTask(tmpl, elig, of, new Map(of));
    assert.ok(p.node);
    of.set(p.node.ID, (of.get(p.node.ID) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(of), { a: 2, b: 2 });
  assert.deepEqual(placeTask(tmpl, elig, of, of), { explain: 'no suitable node (max replicas per node limit exceed)' });
  // 0 (or absent) is no limit.
  assert.ok(placeTask({ Placement: { MaxReplicas: 0 } }, elig, of, of).node);
});

test('the reasons of all filters, the one that turned away most nodes first', () => {
  const nodes = [node('a', { t: 'x' }), node('b'), node('c'), node('d', { t: 'x' })];
  const tmpl = { Placement: { MaxReplicas: 1, Constraints: ['node.labels.t==x'] } };
  const elig = eligibleNodes(tmpl, nodes.map((n) => ({ node: n, ready: n.ID !== 'd' })));
  const of = new Map([['a', 1]]);
  assert.equal(placeTask(tmpl, elig, of, of).explain, 'no suitable node (scheduling constraints not satisfied on 2 nodes; 1 node not available for new tasks; max replicas per node limit exceed)');
});

test('a placement change alone: the task stays where its node still fits', () => {
  const spec = { ContainerSpec: { Image: 'busybox' }, Placement: { MaxReplicas: 1 } };
  assert.equal(onlyPlacementChanged(spec, { ContainerSpec: { Image: 'busybox' }, Placement: { MaxReplicas: 2 } }, node('a')), true);
  assert.equal(onlyPlacementChanged(spec, { ContainerSpec: { Image: 'busybox' }, Placement: { Constraints: ['node.labels.t==x'] } }, node('a')), false);
  assert.equal(onlyPlacementChanged(spec, { ContainerSpec: { Image: 'busybox:2' }, Placement: { MaxReplicas: 1 } }, node('a')), false);
  assert.equal(onlyPlacementChanged(spec, { ContainerSpec: { Image: 'busybox' } }, undefined), false);
});

test('--replicas-max-per-node on service create and update (docker/cli ToServiceMode, updateService)', () => {
  const create = (argv: string[]) => buildServiceSpec(parseArgs({ use: 'create', short: '', flags: SERVICE_FLAGS, args: { kind: 'min', n: 1 }, stopAtFirstArg: true }, 'berth service create', argv).flags, ['busybox']);
  const update = (spec: Record<string, any>, argv: string[]) => {
    applyServiceUpdate(spec, parseArgs({ use: 'update', short: '', flags: SERVICE_UPDATE_FLAGS, args: { kind: 'exact', n: 1 } }, 'berth service update', [...argv, 'svc']).flags);
    return spec;
  };
  const s = create(['--replicas-max-per-node', '2', '--constraint', 'node.role==worker', 'busybox']);
  assert.deepEqual(s.TaskTemplate.Placement, { Constraints: ['node.role==worker'], MaxReplicas: 2 });
  assert.equal(create(['busybox']).TaskTemplate.Placement.MaxReplicas, undefined);
  assert.equal(create(['--mode', 'replicated-job', '--replicas-max-per-node', '1', 'busybox']).TaskTemplate.Placement.MaxReplicas, 1);
  for (const mode of ['global', 'global-job']) {
    assert.throws(() => create(['--mode', mode, '--replicas-max-per-node', '1', 'busybox']), /^Error: replicas-max-per-node can only be used with replicated or replicated-job mode$/);
  }
  assert.equal(update(s, ['--replicas-max-per-node', '3']).TaskTemplate.Placement.MaxReplicas, 3);
  assert.equal(update(s, ['--env-add', 'A=1']).TaskTemplate.Placement.MaxReplicas, 3, 'kept when not given');
  assert.equal(update(s, ['--replicas-max-per-node', '0']).TaskTemplate.Placement.MaxReplicas, 0);
});
