import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OverlayAllocator, AllocationError, macFromIp, emptyState } from '../../src/daemon/system/overlay/allocator.js';

test('networks get distinct VNIs from 4096 and distinct /24s from 10.0.0.0/8, idempotently', () => {
  const a = new OverlayAllocator();
  const ingress = a.allocateNetwork('ingress');
  assert.deepEqual([ingress.vni, ingress.subnet, ingress.gateway], [4096, '10.0.0.0/24', '10.0.0.1']);
  const web = a.allocateNetwork('web');
  assert.deepEqual([web.vni, web.subnet, web.gateway], [4097, '10.0.1.0/24', '10.0.1.1']);
  assert.deepEqual(a.allocateNetwork('web'), web);
  a.releaseNetwork('ingress');
  const next = a.allocateNetwork('db');
  assert.deepEqual([next.vni, next.subnet], [4096, '10.0.0.0/24']);
});

test('a requested subnet that overlaps another is refused with docker text; the state is unchanged', () => {
  const a = new OverlayAllocator();
  a.allocateNetwork('one', { subnet: '10.10.0.0/16' });
  const before = JSON.stringify(a.toJSON());
  assert.throws(() => a.allocateNetwork('two', { subnet: '10.10.5.0/24' }), /Pool overlaps with other one on this address space/);
  assert.equal(JSON.stringify(a.toJSON()), before);
  // Carved subnets skip the taken range.
  const auto = a.allocateNetwork('three', { subnet: undefined });
  assert.equal(auto.subnet, '10.0.0.0/24');
  assert.throws(() => a.allocateNetwork('four', { subnet: '192.168.9.0/24', gateway: '192.168.10.1' }), /no matching subnet for gateway/);
  assert.throws(() => a.allocateNetwork('five', { vni: 4096 }), /VNI 4096 is already in use/);
});

test('IP leases skip network, gateway and broadcast, go in order and do not reuse a released address at once', () => {
  const a = new OverlayAllocator();
  a.allocateNetwork('n', { subnet: '10.9.0.0/29' }); // hosts .1-.6, gateway .1
  const ips = ['t1', 't2', 't3'].map((t) => a.allocateIp('n', `task:${t}`));
  assert.deepEqual(ips, ['10.9.0.2', '10.9.0.3', '10.9.0.4']);
  assert.equal(a.allocateIp('n', 'task:t2'), '10.9.0.3', 'the same owner gets its lease back');
  a.releaseIp('n', '10.9.0.3');
  assert.equal(a.allocateIp('n', 'task:t4'), '10.9.0.5');
  assert.equal(a.allocateIp('n', 'task:t5'), '10.9.0.6');
  assert.equal(a.allocateIp('n', 'task:t6'), '10.9.0.3', 'wraps around to the released one');
  assert.throws(() => a.allocateIp('n', 'task:t7'), AllocationError);
  assert.throws(() => a.allocateIp('n', 'x', '10.9.0.4'), /Address already in use/);
  assert.throws(() => a.allocateIp('n', 'x', '10.9.1.4'), /does not belong to the network's subnet/);
  assert.throws(() => a.allocateIp('nope', 'x'), /network nope not found/);
});

test('service VIPs are leases of their own, released with the service', () => {
  const a = new OverlayAllocator();
  a.allocateNetwork('web');
  const vip = a.allocateVip('web', 'svc1');
  assert.equal(vip, '10.0.0.2');
  assert.equal(a.allocateVip('web', 'svc1'), vip);
  const task = a.allocateIp('web', 'task:a');
  assert.notEqual(task, vip);
  a.releaseVip('web', 'svc1');
  assert.equal(a.network('web')!.leases[vip], undefined);
  a.releaseOwner('task:a');
  assert.deepEqual(a.network('web')!.leases, {});
});

test('the state round-trips through JSON (as etcd stores it) and a failed operation leaves the input untouched', () => {
  const state = emptyState();
  const a = new OverlayAllocator(state);
  a.allocateNetwork('web');
  a.allocateIp('web', 'task:1');
  assert.deepEqual(state, emptyState(), 'the constructor copies its input');
  const b = new OverlayAllocator(JSON.parse(JSON.stringify(a.toJSON())));
  assert.equal(b.allocateIp('web', 'task:2'), '10.0.0.3');
  assert.equal(b.allocateNetwork('other').vni, 4097);
  const small = new OverlayAllocator(emptyState(), { defaultPools: ['10.1.0.0/23'], vniMin: 10, vniMax: 11 });
  small.allocateNetwork('a');
  small.allocateNetwork('b');
  assert.throws(() => small.allocateNetwork('c'), /no free VXLAN network identifier/);
  const small2 = new OverlayAllocator(emptyState(), { defaultPools: ['10.1.0.0/24'] });
  small2.allocateNetwork('a');
  assert.throws(() => small2.allocateNetwork('b'), /could not find an available, non-overlapping IPv4 address pool/);
});

test('MACs derive from IPs like docker', () => {
  assert.equal(macFromIp('10.0.0.2'), '02:42:0a:00:00:02');
  assert.equal(macFromIp('192.168.255.17'), '02:42:c0:a8:ff:11');
});

test('dual stack: an IPv6 subnet (asked for, or a random unique-local /64), leases in order, released with their owner', () => {
  const a = new OverlayAllocator();
  const n = a.allocateNetwork('six', { ipv6: true, subnet6: 'fd00:5a::/64' });
  assert.deepEqual([n.subnet6, n.gateway6], ['fd00:5a::/64', 'fd00:5a::1']);
  assert.equal(a.allocateIp6('six', 'task:a'), 'fd00:5a::2');
  assert.equal(a.allocateIp6('six', 'task:b'), 'fd00:5a::3');
  assert.equal(a.allocateIp6('six', 'task:a'), 'fd00:5a::2', 'the same owner gets its lease back');
  a.releaseOwner('task:a');
  assert.equal(a.allocateIp6('six', 'task:c'), 'fd00:5a::4', 'a released address is not reused at once');
  a.releaseIp('six', 'fd00:5a::3');
  assert.deepEqual(Object.keys(a.network('six')!.leases6!), ['fd00:5a::4']);
  // IPv4-only networks have no IPv6 addresses; overlapping IPv6 subnets are refused as for IPv4.
  a.allocateNetwork('four');
  assert.equal(a.allocateIp6('four', 'task:d'), undefined);
  assert.throws(() => a.allocateNetwork('clash', { ipv6: true, subnet6: 'fd00:5a:0:0:1::/80' }), /Pool overlaps with other one on this address space/);
  const auto = a.allocateNetwork('auto', { ipv6: true });
  assert.match(auto.subnet6!, /^fd[0-9a-f]{2}:[0-9a-f:]+\/64$/);
  // The state survives JSON (the cluster store).
  const again = new OverlayAllocator(JSON.parse(JSON.stringify(a.toJSON())));
  assert.equal(again.allocateIp6('six', 'task:e'), 'fd00:5a::5');
});
