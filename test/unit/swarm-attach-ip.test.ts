// Plain containers on attachable overlays asking for an address and aliases:
// the allocator leases the address asked for (IPv4 and IPv6) or refuses it
// with docker's text; the node checks `--ip` as dockerd does before asking
// (subnet, in use in the cluster view); aliases resolve like the name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OverlayAllocator } from '../../src/daemon/system/overlay/allocator.js';
import { ATTACH_CONFIG_LABEL, ATTACH_LABEL, SwarmAttachments } from '../../src/daemon/services/swarm/attachments.js';
import { swarmLookup } from '../../src/daemon/services/swarm/overlay-dns.js';
import type { OverlayReply, SwarmNetwork } from '../../src/daemon/services/swarm/overlay-store.js';

test('the allocator leases the address asked for, or refuses it: taken, gateway, outside the subnet', () => {
  const a = new OverlayAllocator();
  a.allocateNetwork('n', { subnet: '10.60.0.0/24', ipv6: true, subnet6: 'fd00:60::/64' });
  assert.equal(a.allocateIp('n', 'att:x', '10.60.0.50'), '10.60.0.50');
  assert.equal(a.allocateIp('n', 'att:x', '10.60.0.50'), '10.60.0.50', 'the same owner keeps it');
  assert.throws(() => a.allocateIp('n', 'att:y', '10.60.0.50'), /^Error: Address already in use$/);
  assert.throws(() => a.allocateIp('n', 'att:y', '10.60.0.1'), /^Error: Address already in use$/);
  assert.throws(() => a.allocateIp('n', 'att:y', '10.61.0.1'), /does not belong to the network's subnet 10\.60\.0\.0\/24/);
  assert.equal(a.allocateIp6('n', 'att:x', 'fd00:60:0::0050'), 'fd00:60::50', 'one spelling of the address');
  assert.throws(() => a.allocateIp6('n', 'att:y', 'fd00:60::50'), /^Error: Address already in use$/);
  assert.throws(() => a.allocateIp6('n', 'att:y', 'fd00:61::5'), /does not belong to the network's subnet fd00:60::\/64/);
  // Dynamic leases go around what was asked for.
  assert.equal(a.allocateIp('n', 'att:z'), '10.60.0.2');
});

const net: SwarmNetwork = {
  Name: 'fixnet', Id: 'net1', Created: '', Scope: 'swarm', Driver: 'overlay', EnableIPv4: true, EnableIPv6: false,
  IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.60.0.0/24', Gateway: '10.60.0.1' }] },
  Internal: false, Attachable: true, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {},
};

function reply(endpoints: OverlayReply['view']['endpoints']): OverlayReply {
  return { view: { nodes: [], networks: [], endpoints, services: [{ id: 's1', vips: { net1: '10.60.0.9' } }] }, networks: [net], services: [] };
}

test('run --network <overlay> --ip/--network-alias: checked as dockerd does, then kept in a label; network connect: in the file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-att-'));
  try {
    const containers = [{ id: 'c1'.padEnd(64, '0'), name: 'pc', running: true, labels: {} as Record<string, string> }];
    const att = new SwarmAttachments({
      file: path.join(dir, 'att.json'),
      networks: async () => [net],
      isLocalNetwork: () => false,
      containers: () => containers,
      containerId: (ref) => containers.find((c) => c.name === ref || c.id === ref)!.id,
      view: () => reply([{ id: 'ctr:other/net1', networkId: 'net1', nodeId: 'n1', ip: '10.60.0.50' }]),
    });
    const create = (ip: string, aliases?: string[]) =>
      att.prepareCreate({ HostConfig: { NetworkMode: 'fixnet' }, NetworkingConfig: { EndpointsConfig: { fixnet: { IPAMConfig: { IPv4Address: ip }, Aliases: aliases } } } });
    await assert.rejects(create('10.61.0.5'), /: no configured subnet or ip-range contain the IP address 10\.61\.0\.5$/);
    await assert.rejects(create('10.60.0.300'), /: invalid IPv4 address: 10\.60\.0\.300$/);
    for (const taken of ['10.60.0.50', '10.60.0.1', '10.60.0.9']) await assert.rejects(create(taken), /: Address already in use$/, taken);
    const body = (await create('10.60.0.70', ['alpha'])) as any;
    assert.equal(body.HostConfig.NetworkMode, 'bridge');
    assert.deepEqual(body.NetworkingConfig.EndpointsConfig, {});
    assert.equal(body.Labels[ATTACH_LABEL], 'net1');
    assert.deepEqual(JSON.parse(body.Labels[ATTACH_CONFIG_LABEL]), { net1: { ip: '10.60.0.70', aliases: ['alpha'] } });
    // The heartbeat asks for what the container asked for.
    containers[0]!.labels = body.Labels;
    assert.deepEqual(att.wanted(), [{ containerId: containers[0]!.id, networkId: 'net1', name: 'pc', wantIp: '10.60.0.70', aliases: ['alpha'] }]);
    // network connect: the file's request wins; undo leaves the container as it was.
    containers[0]!.labels = {};
    const c = (await att.connect('fixnet', 'pc', { IPAMConfig: { IPv4Address: '10.60.0.80', IPv6Address: '' }, Aliases: ['beta'] }))!;
    assert.deepEqual(att.wanted(), [{ containerId: containers[0]!.id, networkId: 'net1', name: 'pc', wantIp: '10.60.0.80', aliases: ['beta'] }]);
    c.undo();
    assert.deepEqual(att.wanted(), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a plain container\'s aliases resolve on the networks the asker shares with it', () => {
  const r = reply([
    { id: 'ctr:a/net1', networkId: 'net1', nodeId: 'n2', ip: '10.60.0.50', name: 'pa', aliases: ['alpha', 'Both'] },
    { id: 'ctr:b/net1', networkId: 'net1', nodeId: 'n1', ip: '10.60.0.60', name: 'pb', aliases: ['both'] },
    { id: 'ctr:c/net2', networkId: 'net2', nodeId: 'n1', ip: '10.70.0.5', name: 'pc', aliases: ['alpha'] },
  ]);
  assert.deepEqual(swarmLookup(r, 'ctr:b', 'alpha'), ['10.60.0.50']);
  assert.deepEqual(swarmLookup(r, 'ctr:b', 'ALPHA.'), ['10.60.0.50']);
  assert.deepEqual(swarmLookup(r, 'ctr:b', 'both')?.sort(), ['10.60.0.50', '10.60.0.60']);
  assert.equal(swarmLookup(r, 'ctr:c', 'both'), undefined);
});
