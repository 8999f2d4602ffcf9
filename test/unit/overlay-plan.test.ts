import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNode, type ClusterView } from '../../src/daemon/system/overlay/plan.js';

const view: ClusterView = {
  nodes: [
    { id: 'n1', addr: '192.0.2.1' },
    { id: 'n2', addr: '192.0.2.2' },
    { id: 'n3', addr: '192.0.2.3' },
  ],
  networks: [
    { id: 'ingress', vni: 4096, subnet: '10.0.0.0/24', ingress: true, nodeAddresses: { n1: '10.0.0.2', n2: '10.0.0.3', n3: '10.0.0.4' } },
    { id: 'web', vni: 4097, subnet: '10.0.1.0/24' },
    { id: 'db', vni: 4098, subnet: '10.0.2.0/24' },
  ],
  endpoints: [
    { id: 't1/web', networkId: 'web', nodeId: 'n1', ip: '10.0.1.3', netns: '/run/t1', serviceId: 'api' },
    { id: 't1/ingress', networkId: 'ingress', nodeId: 'n1', ip: '10.0.0.5', netns: '/run/t1', serviceId: 'api' },
    { id: 't2/web', networkId: 'web', nodeId: 'n2', ip: '10.0.1.4', netns: '/run/t2', serviceId: 'api' },
    { id: 't2/ingress', networkId: 'ingress', nodeId: 'n2', ip: '10.0.0.6', netns: '/run/t2', serviceId: 'api' },
    { id: 't3/web', networkId: 'web', nodeId: 'n2', ip: '10.0.1.5', netns: '/run/t3', serviceId: 'api', ready: false },
    { id: 'd1/db', networkId: 'db', nodeId: 'n2', ip: '10.0.2.3', netns: '/run/d1', serviceId: 'store' },
  ],
  services: [
    { id: 'api', vips: { web: '10.0.1.2', ingress: '10.0.0.7' }, ports: [{ protocol: 'tcp', publishedPort: 8080, targetPort: 80 }] },
    { id: 'store', endpointMode: 'dnsrr', vips: { db: '10.0.2.2' } },
  ],
};

test('a node gets the networks it has tasks on, plus ingress, with peers and remote endpoints', () => {
  const s = planNode('n1', view);
  assert.deepEqual(s.networks.map((n) => n.id), ['ingress', 'web'], 'db has no task on n1');
  const web = s.networks.find((n) => n.id === 'web')!;
  assert.deepEqual(web.peers, ['192.0.2.2']);
  assert.deepEqual(web.remoteEndpoints, [
    { ip: '10.0.1.4', vtep: '192.0.2.2' },
    { ip: '10.0.1.5', vtep: '192.0.2.2' },
  ]);
  const ing = s.networks.find((n) => n.id === 'ingress')!;
  assert.equal(ing.hostAddress, '10.0.0.2');
  assert.equal(ing.ingress, true);
  assert.deepEqual(ing.peers, ['192.0.2.2', '192.0.2.3']);
  // The other nodes' own ingress addresses are remote endpoints too (SNATed replies go to them).
  assert.ok(ing.remoteEndpoints.some((r) => r.ip === '10.0.0.4' && r.vtep === '192.0.2.3'));
  assert.deepEqual(s.endpoints.map((e) => e.id), ['t1/web', 't1/ingress']);
});

test('VIPs and published ports lead to ready tasks only; dnsrr services get no VIP', () => {
  const s = planNode('n2', view);
  const web = s.services.find((x) => x.networkId === 'web')!;
  assert.deepEqual(web, { networkId: 'web', id: 'api', vip: '10.0.1.2', backends: ['10.0.1.3', '10.0.1.4'] });
  assert.equal(s.services.some((x) => x.id === 'store'), false);
  assert.deepEqual(s.ingressPorts, [{ protocol: 'tcp', publishedPort: 8080, targetPort: 80, backends: ['10.0.0.5', '10.0.0.6'] }]);
  // A node with no task still publishes the port (routing mesh) but has no VIP rules to hold.
  const n3 = planNode('n3', view);
  assert.deepEqual(n3.networks.map((n) => n.id), ['ingress']);
  assert.deepEqual(n3.ingressPorts[0]!.backends, ['10.0.0.5', '10.0.0.6']);
  assert.deepEqual(n3.services.map((x) => x.networkId), ['ingress']);
  assert.throws(() => planNode('n9', view), /node n9 not found/);
});

test('dual-stack networks carry the IPv6 subnet and each endpoint\'s IPv6 address, locally and remotely', () => {
  const v: ClusterView = {
    nodes: [
      { id: 'n1', addr: '192.0.2.1' },
      { id: 'n2', addr: '192.0.2.2' },
    ],
    networks: [{ id: 'six', vni: 4100, subnet: '10.0.5.0/24', subnet6: 'fd00:5a::/64' }],
    endpoints: [
      { id: 'a/six', networkId: 'six', nodeId: 'n1', ip: '10.0.5.2', ip6: 'fd00:5a::2', netns: '/run/a' },
      { id: 'b/six', networkId: 'six', nodeId: 'n2', ip: '10.0.5.3', ip6: 'fd00:5a::3', netns: '/run/b' },
    ],
    services: [],
  };
  const s = planNode('n1', v);
  assert.equal(s.networks[0]!.subnet6, 'fd00:5a::/64');
  assert.deepEqual(s.networks[0]!.remoteEndpoints, [{ ip: '10.0.5.3', ip6: 'fd00:5a::3', vtep: '192.0.2.2' }]);
  assert.deepEqual(s.endpoints, [{ id: 'a/six', networkId: 'six', netns: '/run/a', ip: '10.0.5.2', ip6: 'fd00:5a::2' }]);
});
