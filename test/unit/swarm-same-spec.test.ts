import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameSpec } from '../../src/daemon/services/swarm/model.js';

test('a spec sent with its keys in another order is the same spec (no rolling update)', () => {
  assert.equal(sameSpec({ ContainerSpec: { Image: 'busybox', Env: ['A=1'] }, ForceUpdate: 0 }, { ForceUpdate: 0, ContainerSpec: { Env: ['A=1'], Image: 'busybox' } }), true);
  assert.equal(sameSpec(undefined, {}), true);
});

test('a changed value or array order is a different spec', () => {
  assert.equal(sameSpec({ ContainerSpec: { Image: 'busybox:1' } }, { ContainerSpec: { Image: 'busybox:2' } }), false);
  assert.equal(sameSpec({ Env: ['A=1', 'B=2'] }, { Env: ['B=2', 'A=1'] }), false);
});

test('an empty list or null is the same as none (protobuf repeated fields): `service update` sending Secrets: [] changes nothing', () => {
  assert.equal(sameSpec({ ContainerSpec: { Image: 'busybox', Secrets: [], Mounts: null } }, { ContainerSpec: { Image: 'busybox' } }), true);
  assert.equal(sameSpec({ ContainerSpec: { Image: 'busybox', Env: ['A=1'] } }, { ContainerSpec: { Image: 'busybox', Env: [] } }), false);
});
