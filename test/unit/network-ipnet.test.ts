import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, formatCidr, overlaps, within, contains, firstHost, pickSubnet, cidrAddress } from '../../src/daemon/system/ipnet.js';
import { buildConfig } from '../../src/daemon/daemon-flags.js';

test('CIDRs: host bits cleared, docker\'s text for bad ones', () => {
  assert.equal(formatCidr(parseCidr('172.30.0.1/16')), '172.30.0.0/16');
  assert.equal(cidrAddress('172.30.0.1/16'), '172.30.0.1');
  for (const bad of ['10.0.0.0/33', '10.0.0/24', '300.1.1.1/8', 'nonsense', '10.0.0.0']) {
    assert.throws(() => parseCidr(bad), { message: `invalid CIDR address: ${bad}` });
  }
});

test('overlap, containment and the first host address', () => {
  assert.ok(overlaps(parseCidr('10.1.0.0/16'), parseCidr('10.1.200.0/24')));
  assert.ok(!overlaps(parseCidr('10.1.0.0/16'), parseCidr('10.2.0.0/16')));
  assert.ok(within(parseCidr('10.1.2.0/24'), parseCidr('10.1.0.0/16')));
  assert.ok(!within(parseCidr('10.0.0.0/8'), parseCidr('10.1.0.0/16')));
  assert.ok(contains(parseCidr('192.168.1.0/24'), '192.168.1.77'));
  assert.equal(firstHost(parseCidr('192.168.16.0/20')), '192.168.16.1');
});

test('subnets for new networks come from docker\'s pools, skipping used ones', () => {
  assert.equal(formatCidr(pickSubnet([])!), '172.17.0.0/16');
  assert.equal(formatCidr(pickSubnet([parseCidr('172.17.0.0/16'), parseCidr('172.18.5.0/24')])!), '172.19.0.0/16');
  const allB = Array.from({ length: 15 }, (_, i) => parseCidr(`172.${17 + i}.0.0/16`));
  assert.equal(formatCidr(pickSubnet([...allB, parseCidr('192.168.0.0/20')])!), '192.168.16.0/20');
  assert.equal(pickSubnet([parseCidr('0.0.0.0/1'), parseCidr('128.0.0.0/1')]), undefined);
});

test('berthd networking flags: defaults that do not clash with docker0, and overrides', () => {
  const dflt = buildConfig(['--config-file', '/dev/null']).cfg.network;
  assert.equal(dflt.bridgeName, 'berth0');
  assert.equal(dflt.bip, '172.30.0.1/16');
  assert.equal(dflt.iptables, true);
  assert.equal(dflt.chainPrefix, 'BERTH');
  const n = buildConfig(['--config-file', '/dev/null', '-b', 'br-test', '--bip', '10.9.0.1/24', '--fixed-cidr', '10.9.0.128/25', '--iptables=false', '--iptables-chain-prefix', 'T1']).cfg.network;
  assert.deepEqual({ ...n, cniPluginDir: undefined }, { bridgeName: 'br-test', bip: '10.9.0.1/24', fixedCidr: '10.9.0.128/25', iptables: false, chainPrefix: 'T1', cniPluginDir: undefined });
  assert.throws(() => buildConfig(['--config-file', '/dev/null', '--bip', '10.9.0.0']), /invalid --bip 10\.9\.0\.0/);
  assert.throws(() => buildConfig(['--config-file', '/dev/null', '--bridge', 'a-very-long-bridge-name']), /invalid --bridge/);
});
