import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TestDaemon, run, until } from '../helpers/daemon.js';

const d = new TestDaemon();

before(async () => {
  await d.start();
  await d.makeBusybox();
});
after(async () => {
  await d.cleanup();
});

/** A host port nothing listens on now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: '0.0.0.0', port: 0 }, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function httpGet(host: string, port: number, p = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: p, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

function hostAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.2')) return a.address;
  }
  return undefined;
}

async function ok(args: string[], timeoutMs = 60_000) {
  const r = await d.berth(args, { timeoutMs });
  assert.equal(r.code, 0, `berth ${args.join(' ')} failed: ${r.stderr}\n${d.log.slice(-2000)}`);
  return r.stdout;
}

const bridgeSubnetPrefix = () => d.bip.split('.').slice(0, 3).join('.') + '.';

/** Whatever the daemon's networking has left for a container: namespace file, leases, iptables rules. */
async function leftovers(id: string): Promise<string[]> {
  const out: string[] = [];
  if (fs.existsSync(path.join(d.execRoot, 'netns', id))) out.push('netns file');
  const ipam = path.join(d.execRoot, 'cni', 'ipam');
  for (const n of fs.existsSync(ipam) ? fs.readdirSync(ipam) : []) {
    for (const f of fs.readdirSync(path.join(ipam, n))) {
      if (/^\d+\.\d+\.\d+\.\d+$/.test(f) && fs.readFileSync(path.join(ipam, n, f), 'utf8').startsWith(id)) out.push(`lease ${n}/${f}`);
    }
  }
  const rules = (await run('/usr/sbin/iptables-save', [])).stdout;
  for (const l of rules.split('\n')) if (l.includes(id)) out.push(`rule ${l}`);
  return out;
}

function veths(bridge: string): string[] {
  const dir = `/sys/class/net/${bridge}/brif`;
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

test('default bridge: an address from --bip, /etc/hosts with it, the host resolvers, outbound NAT to the Debian mirror', async () => {
  const out = await ok(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf']);
  const [addr, hosts, resolv] = out.split('---\n');
  const ip = /inet (\S+)\//.exec(addr!)?.[1] ?? '';
  assert.ok(ip.startsWith(bridgeSubnetPrefix()), `address ${ip} not in ${d.bip}`);
  assert.match(hosts!, new RegExp(`^${ip.replace(/\./g, '\\.')}\\t[0-9a-f]{12}$`, 'm'));
  assert.doesNotMatch(resolv!, /nameserver 127\./);
  assert.match(resolv!, /^nameserver /m);
  // busybox's static wget cannot resolve names (no NSS in the image) and crashes with -T:
  // nslookup resolves through NAT, wget fetches by address under `timeout`.
  const script =
    'ip=$(nslookup deb.debian.org | awk \'/^Address: /{print $2; exit}\'); ' +
    'test -n "$ip" || exit 3; timeout 20 wget -q -O- --header "Host: deb.debian.org" "http://$ip/debian/dists/bookworm/Release" | head -n 3';
  const r = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Origin: Debian/);
});

test('a published busybox httpd answers on 127.0.0.1, the host address and the container address; port, ps and inspect show it', async () => {
  const hp = await freePort();
  const id = (await ok(['run', '-d', '--name', 'web', '-p', `${hp}:80`, 'busybox', 'sh', '-c', 'mkdir /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www'])).trim();
  try {
    const r = (await until(() => httpGet('127.0.0.1', hp).catch(() => undefined), 10_000))!;
    assert.equal(r.status, 200);
    assert.equal(r.body.trim(), 'hello-from-web');
    const host = hostAddress();
    if (host) assert.equal((await httpGet(host, hp)).body.trim(), 'hello-from-web');
    const ns = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings}}', 'web']));
    assert.ok(ns.IPAddress.startsWith(bridgeSubnetPrefix()));
    assert.equal(ns.Gateway, d.bip.split('/')[0]);
    assert.match(ns.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.deepEqual(ns.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: String(hp) }]);
    assert.equal(ns.Networks.bridge.IPAddress, ns.IPAddress);
    assert.match(ns.Networks.bridge.EndpointID, /^[0-9a-f]{64}$/);
    assert.equal((await httpGet(ns.IPAddress, 80)).body.trim(), 'hello-from-web');
    // hairpin: another container reaches it through the host's published port
    const gw = d.bip.split('/')[0]!;
    const viaHost = await d.berth(['run', '--rm', 'busybox', 'timeout', '10', 'wget', '-q', '-O-', `http://${gw}:${hp}/`]);
    assert.equal(viaHost.stdout.trim(), 'hello-from-web', viaHost.stderr);
    assert.equal(await ok(['port', 'web']), `80/tcp -> 0.0.0.0:${hp}\n`);
    assert.equal(await ok(['port', 'web', '80']), `0.0.0.0:${hp}\n`);
    const miss = await d.berth(['port', 'web', '81/tcp']);
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /No public port '81\/tcp' published for web/);
    assert.match(await ok(['ps', '--format', '{{.Ports}}', '--filter', 'name=web']), new RegExp(`^0\\.0\\.0\\.0:${hp}->80/tcp$`, 'm'));
    const d2 = await d.docker(['port', 'web']);
    assert.equal(d2.stdout, `80/tcp -> 0.0.0.0:${hp}\n`, d2.stderr);
  } finally {
    await d.berth(['rm', '-f', 'web']);
  }
  assert.deepEqual(await leftovers(id), []);
  assert.deepEqual(veths(d.bridge), []);
});

test('a port already allocated: docker\'s error, the container does not start, nothing is left behind', async () => {
  const hp = await freePort();
  await ok(['run', '-d', '--name', 'holder', '-p', `${hp}:80`, 'busybox', 'sleep', '300']);
  try {
    const r = await d.berth(['run', '-d', '--name', 'second', '-p', `${hp}:80`, 'busybox', 'sleep', '300']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`driver failed programming external connectivity on endpoint second \\([0-9a-f]{64}\\): Bind for 0\\.0\\.0\\.0:${hp} failed: port is already allocated`));
    const st = JSON.parse(await ok(['inspect', '-f', '{{json .State}}', 'second']));
    assert.equal(st.Running, false);
    const id = (await ok(['inspect', '-f', '{{.Id}}', 'second'])).trim();
    assert.deepEqual(await leftovers(id), []);
    assert.equal(veths(d.bridge).length, 1, 'only the holder has a veth');
    await ok(['rm', 'second']);
  } finally {
    await d.berth(['rm', '-f', 'holder']);
  }
});

test('-P publishes exposed ports on ephemeral host ports; -p with a host IP and a range', async () => {
  const id = (await ok(['run', '-d', '--expose', '80', '--expose', '81/udp', '-P', '-p', '127.0.0.1::82', 'busybox', 'sleep', '300'])).trim();
  try {
    const ports = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', id]));
    const p80 = ports['80/tcp'][0];
    assert.equal(p80.HostIp, '0.0.0.0');
    assert.ok(Number(p80.HostPort) > 1024);
    assert.ok(Number(ports['81/udp'][0].HostPort) > 1024);
    assert.equal(ports['82/tcp'][0].HostIp, '127.0.0.1');
    const ps = async (f: string) => (await ok(['ps', '-q', '--no-trunc', '--filter', f])).trim();
    assert.equal(await ps('publish=80'), id);
    assert.equal(await ps('publish=81/udp'), id);
    assert.equal(await ps('expose=79-85/tcp'), id);
    assert.equal(await ps('publish=83'), '');
    assert.equal(await ps('publish=80/udp'), '');
    // NET I/O comes from the container's interfaces
    const stats = JSON.parse((await d.api('GET', `/containers/${id}/stats?stream=false`)).body);
    assert.ok(stats.networks?.eth0, `no eth0 in ${JSON.stringify(stats.networks)}`);
  } finally {
    await d.berth(['rm', '-f', id]);
  }
  const lo = await freePort();
  const id2 = (await ok(['run', '-d', '-p', `${lo}-${lo + 5}:80`, 'busybox', 'sleep', '300'])).trim();
  try {
    const hp = Number((await ok(['port', id2, '80'])).trim().split(':')[1]);
    assert.ok(hp >= lo && hp <= lo + 5, `host port ${hp} outside ${lo}-${lo + 5}`);
  } finally {
    await d.berth(['rm', '-f', id2]);
  }
});

test('user-defined networks: create, ls, inspect with containers, isolation between networks, rm with active endpoints', async () => {
  const a = (await ok(['network', 'create', '--subnet', '10.231.7.0/24', '--label', 'team=a', 'neta'])).trim();
  assert.match(a, /^[0-9a-f]{64}$/);
  await ok(['network', 'create', 'netb']);
  try {
    const ls = await ok(['network', 'ls']);
    assert.match(ls, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/m);
    assert.match(ls, new RegExp(`^${a.slice(0, 12)}\\s+neta\\s+bridge\\s+local$`, 'm'));
    assert.match(ls, /^[0-9a-f]{12}\s+bridge\s+bridge\s+local$/m);
    assert.match(ls, /^[0-9a-f]{12}\s+host\s+host\s+local$/m);
    assert.match(ls, /^[0-9a-f]{12}\s+none\s+null\s+local$/m);
    assert.equal(await ok(['network', 'ls', '-q', '--filter', 'label=team=a']), `${a.slice(0, 12)}\n`);
    assert.equal(await ok(['network', 'ls', '--format', '{{.Name}}', '--filter', 'type=custom']), 'neta\nnetb\n');

    await ok(['run', '-d', '--name', 'a1', '--network', 'neta', '--ip', '10.231.7.50', 'busybox', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'a2', '--network', 'neta', 'busybox', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'b1', '--network', 'netb', 'busybox', 'sleep', '300']);
    const inspect = JSON.parse(await ok(['network', 'inspect', 'neta']))[0];
    assert.equal(inspect.Name, 'neta');
    assert.deepEqual(inspect.IPAM.Config, [{ Subnet: '10.231.7.0/24', Gateway: '10.231.7.1' }]);
    assert.deepEqual(inspect.Labels, { team: 'a' });
    const names = Object.values(inspect.Containers).map((c: any) => c.Name).sort();
    assert.deepEqual(names, ['a1', 'a2']);
    const a1 = Object.values(inspect.Containers).find((c: any) => c.Name === 'a1') as any;
    assert.equal(a1.IPv4Address, '10.231.7.50/24');

    const b1ip = (await ok(['inspect', '-f', '{{.NetworkSettings.Networks.netb.IPAddress}}', 'b1'])).trim();
    assert.ok(b1ip !== '');
    // same network: reachable; another network: not
    assert.equal((await d.berth(['exec', 'a2', 'ping', '-c', '1', '-W', '2', '10.231.7.50'])).code, 0);
    assert.notEqual((await d.berth(['exec', 'a2', 'ping', '-c', '1', '-W', '2', b1ip])).code, 0);

    const rm = await d.berth(['network', 'rm', 'neta']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /error while removing network: network neta has active endpoints \(name:"a\d" id:"[0-9a-f]{12}"/);
    assert.match(await ok(['ps', '--format', '{{.Names}}', '--filter', 'network=netb']), /^b1$/m);
  } finally {
    await d.berth(['rm', '-f', 'a1', 'a2', 'b1']);
  }
  assert.equal(await ok(['network', 'rm', 'neta', 'netb']), 'neta\nnetb\n');
  assert.equal((await d.berth(['network', 'inspect', 'neta'])).code, 1);
});

test('network errors: docker\'s texts, nothing created', async () => {
  await ok(['network', 'create', '--subnet', '10.232.0.0/16', 'errnet']);
  try {
    const dup = await d.berth(['network', 'create', 'errnet']);
    assert.match(dup.stderr, /network with name errnet already exists/);
    const overlap = await d.berth(['network', 'create', '--subnet', '10.232.5.0/24', 'other']);
    assert.match(overlap.stderr, /Pool overlaps with other one on this address space/);
    const bad = await d.berth(['network', 'create', '--subnet', '10.233.0.0/33', 'other']);
    assert.match(bad.stderr, /invalid CIDR address: 10\.233\.0\.0\/33/);
    const unknown = await d.berth(['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']);
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /network nosuchnet not found/);
    const alias = await d.berth(['run', '--rm', '--network-alias', 'x', 'busybox', 'true']);
    assert.match(alias.stderr, /network-scoped alias is supported only for containers in user defined networks/);
    assert.doesNotMatch(await ok(['network', 'ls', '--format', '{{.Name}}']), /^other$/m);
    const predefined = await d.berth(['network', 'rm', 'bridge']);
    assert.match(predefined.stderr, /bridge is a pre-defined network and cannot be removed/);
  } finally {
    await d.berth(['network', 'rm', 'errnet']);
  }
});

test('--internal networks have no outbound route; connect and disconnect on a running container; network events', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok(['network', 'create', '--internal', 'inet']);
  await ok(['network', 'create', 'extra']);
  try {
    await ok(['run', '-d', '--name', 'in1', '--network', 'inet', 'busybox', 'sleep', '300']);
    const gwHost = (await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'extra'])).trim();
    // the mirror's address straight (no DNS on the way): nothing gets out
    const probe = ['timeout', '5', 'wget', '-O', '/dev/null', 'http://203.0.113.80/'];
    const out = await d.berth(['exec', 'in1', ...probe]);
    assert.notEqual(out.code, 0);
    assert.doesNotMatch(out.stdout + out.stderr, /server returned|HTTP\//, 'the internal container reached the outside');
    // the same probe from a container on an ordinary network gets an HTTP answer
    const outside = await d.berth(['run', '--rm', '--network', 'extra', 'busybox', ...probe]);
    assert.match(outside.stdout + outside.stderr, /server returned|HTTP\//);
    await ok(['network', 'connect', '--alias', 'side', 'extra', 'in1']);
    const nets = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'in1']));
    assert.deepEqual(Object.keys(nets).sort(), ['extra', 'inet']);
    assert.deepEqual(nets.extra.Aliases, ['side']);
    assert.ok(nets.extra.IPAddress);
    assert.match(await ok(['exec', 'in1', 'ip', '-4', '-o', 'addr']), /eth1\s+inet /);
    assert.equal((await d.berth(['exec', 'in1', 'ping', '-c', '1', '-W', '2', gwHost])).code, 0);
    await ok(['network', 'disconnect', 'extra', 'in1']);
    assert.doesNotMatch(await ok(['exec', 'in1', 'ip', '-4', '-o', 'addr']), /eth1/);
    const again = await d.berth(['network', 'disconnect', 'extra', 'in1']);
    assert.match(again.stderr, /is not connected to network extra/);
  } finally {
    await d.berth(['rm', '-f', 'in1']);
    await d.berth(['network', 'rm', 'inet', 'extra']);
  }
  const until = Math.ceil(Date.now() / 1000) + 1;
  const ev = await d.api('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['network'] }))}`);
  const seen = ev.body.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((e: any) => `${e.Action} ${e.Actor.Attributes.name}`);
  for (const want of ['create inet', 'create extra', 'connect inet', 'connect extra', 'disconnect extra', 'disconnect inet', 'destroy inet', 'destroy extra']) {
    assert.ok(seen.includes(want), `no "${want}" event in ${JSON.stringify(seen)}`);
  }
});

test('host, none and container:<name> network modes', async () => {
  const hostIfs = await ok(['run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link']);
  assert.match(hostIfs, /eth0/);
  const none = await ok(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']);
  assert.doesNotMatch(none, /eth0/);
  await ok(['run', '-d', '--name', 'netowner', 'busybox', 'sleep', '300']);
  try {
    const ownerIp = (await ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'netowner'])).trim();
    const joined = await ok(['run', '--rm', '--network', 'container:netowner', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(joined, new RegExp(`inet ${ownerIp.replace(/\./g, '\\.')}/`));
  } finally {
    await d.berth(['rm', '-f', 'netowner']);
  }
});

test('the docker CLI creates, lists, inspects and removes berthd\'s networks', async () => {
  const created = await d.docker(['network', 'create', '--subnet', '10.234.1.0/24', '--label', 'by=docker', 'dockernet']);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^[0-9a-f]{64}\n$/);
  const dup = await d.docker(['network', 'create', 'dockernet']);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /Error response from daemon: network with name dockernet already exists/);
  try {
    const ls = await d.docker(['network', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/m);
    assert.match(ls.stdout, /^[0-9a-f]{12}\s+dockernet\s+bridge\s+local$/m);
    const ins = await d.docker(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'dockernet']);
    assert.equal(ins.stdout, '10.234.1.0/24 10.234.1.1\n', ins.stderr);
    const run1 = await d.docker(['run', '-d', '--name', 'dk1', '--network', 'dockernet', 'busybox', 'sleep', '300']);
    assert.equal(run1.code, 0, run1.stderr);
    const ip = await d.docker(['inspect', '-f', '{{.NetworkSettings.Networks.dockernet.IPAddress}}', 'dk1']);
    assert.match(ip.stdout, /^10\.234\.1\.\d+\n$/);
    const busy = await d.docker(['network', 'rm', 'dockernet']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /has active endpoints/);
  } finally {
    await d.berth(['rm', '-f', 'dk1']);
  }
  const rm = await d.docker(['network', 'rm', 'dockernet']);
  assert.equal(rm.stdout, 'dockernet\n', rm.stderr);
});

test('a crash: live containers keep their network, what belonged to removed ones is released', async () => {
  await ok(['network', 'create', 'crashnet']);
  const hp = await freePort();
  await ok(['run', '-d', '--name', 'survivor', '--network', 'crashnet', '-p', `${hp}:80`, 'busybox', 'sh', '-c', 'mkdir /w && echo alive > /w/index.html && exec httpd -f -p 80 -h /w']);
  const gone = (await ok(['run', '-d', '--name', 'gone', 'busybox', 'sleep', '300'])).trim();
  try {
    const pid = Number((await ok(['inspect', '-f', '{{.State.Pid}}', 'gone'])).trim());
    await d.kill9();
    // the container dies while berthd is down: its network must be released when berthd is back
    process.kill(pid, 'SIGKILL');
    await d.start();
    await until(async () => (await ok(['inspect', '-f', '{{.State.Running}}', 'gone'])).trim() === 'false', 15_000);
    assert.deepEqual(await leftovers(gone), []);
    assert.equal((await until(() => httpGet('127.0.0.1', hp).catch(() => undefined), 10_000))!.body.trim(), 'alive');
    const ip = (await ok(['inspect', '-f', '{{.NetworkSettings.Networks.crashnet.IPAddress}}', 'survivor'])).trim();
    assert.ok(ip);
    // its DNS records and its own resolver came back with berthd
    assert.match(await ok(['exec', 'survivor', 'nslookup', 'survivor']), new RegExp(`Address: ${ip.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(await ok(['run', '--rm', '--network', 'crashnet', 'busybox', 'nslookup', 'survivor']), new RegExp(`Address: ${ip.replace(/\./g, '\\.')}$`, 'm'));
    // the port is held again: another container cannot take it
    const clash = await d.berth(['run', '--rm', '-p', `${hp}:80`, 'busybox', 'true']);
    assert.match(clash.stderr, /port is already allocated/);
  } finally {
    await d.berth(['rm', '-f', 'survivor', 'gone']);
    await d.berth(['network', 'rm', 'crashnet']);
  }
});

test('embedded DNS on user networks: names, aliases with every address, nothing across networks, the rest forwarded', async () => {
  await ok(['network', 'create', 'dnsnet']);
  await ok(['network', 'create', 'farnet']);
  try {
    await ok(['run', '-d', '--name', 'db', '--hostname', 'dbhost', '--network', 'dnsnet', '--network-alias', 'pool', 'busybox', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'db2', '--network', 'dnsnet', '--network-alias', 'pool', 'busybox', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'stranger', '--network', 'farnet', 'busybox', 'sleep', '300']);
    const dbIp = (await ok(['inspect', '-f', '{{.NetworkSettings.Networks.dnsnet.IPAddress}}', 'db'])).trim();
    const db2Ip = (await ok(['inspect', '-f', '{{.NetworkSettings.Networks.dnsnet.IPAddress}}', 'db2'])).trim();
    const dnsNames = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Networks.dnsnet.DNSNames}}', 'db']));
    assert.deepEqual(dnsNames.slice(0, 1), ['db']);
    assert.ok(dnsNames.includes('pool'));
    const script = 'cat /etc/resolv.conf; echo ---; for n in db dbhost pool stranger deb.debian.org; do echo "== $n"; nslookup $n 2>&1; done; echo ---; ping -c 1 -W 2 db2 >/dev/null && echo ping-ok';
    const out = await ok(['run', '--rm', '--network', 'dnsnet', 'busybox', 'sh', '-c', script]);
    const [resolv, lookups, ping] = out.split('---\n');
    assert.match(resolv!, /^nameserver 127\.0\.0\.11$/m);
    assert.match(resolv!, /^options ndots:0$/m);
    assert.equal((resolv!.match(/^nameserver/gm) ?? []).length, 1);
    const section = (n: string) => lookups!.split(`== ${n}\n`)[1]!.split('\n== ')[0]!;
    assert.match(section('db'), new RegExp(`Address: ${dbIp.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(section('dbhost'), new RegExp(`Address: ${dbIp.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(section('pool'), new RegExp(`Address: ${dbIp.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(section('pool'), new RegExp(`Address: ${db2Ip.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(section('stranger'), /NXDOMAIN|can't find/);
    assert.match(section('deb.debian.org'), /Address: \d+\.\d+\.\d+\.\d+/);
    assert.match(ping!, /ping-ok/);
    // the order of several addresses rotates between answers
    const firsts = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await ok(['exec', 'db', 'nslookup', 'pool']);
      firsts.add(/Name:\s+pool\s+Address: (\S+)/.exec(r)?.[1] ?? '');
    }
    assert.equal(firsts.size, 2, `always the same first address: ${[...firsts]}`);
  } finally {
    await d.berth(['rm', '-f', 'db', 'db2', 'stranger']);
    await d.berth(['network', 'rm', 'dnsnet', 'farnet']);
  }
});

test('default bridge: no name resolution between containers; --link, --add-host host-gateway, --dns, --dns-search, --dns-option, --hostname', async () => {
  await ok(['run', '-d', '--name', 'linked', 'busybox', 'sleep', '300']);
  try {
    const linkedIp = (await ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'linked'])).trim();
    const noName = await d.berth(['run', '--rm', 'busybox', 'ping', '-c', '1', '-W', '1', 'linked']);
    assert.notEqual(noName.code, 0);
    const out = await ok([
      'run', '--rm', '--link', 'linked:dbalias', '--add-host', 'gw:host-gateway', '--add-host', 'static.example:10.1.2.3',
      '--dns', '10.9.9.9', '--dns-search', 'corp.example', '--dns-option', 'timeout:2', '--hostname', 'myhost',
      'busybox', 'sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; hostname',
    ]);
    const [hosts, resolv, hostname] = out.split('---\n');
    assert.match(hosts!, new RegExp(`^${linkedIp.replace(/\./g, '\\.')}\\tdbalias [0-9a-f]{12} linked$`, 'm'));
    assert.match(hosts!, new RegExp(`^${d.bip.split('/')[0]!.replace(/\./g, '\\.')}\\tgw$`, 'm'));
    assert.match(hosts!, /^10\.1\.2\.3\tstatic\.example$/m);
    assert.match(hosts!, /\tmyhost$/m);
    assert.match(resolv!, /^nameserver 10\.9\.9\.9$/m);
    assert.match(resolv!, /^search corp\.example$/m);
    assert.match(resolv!, /^options timeout:2$/m);
    assert.equal(hostname!.trim(), 'myhost');
  } finally {
    await d.berth(['rm', '-f', 'linked']);
  }
});

test('cleanup: removed containers and networks leave no veth, rule, lease or bridge', async () => {
  await ok(['network', 'create', 'tidy']);
  const br = 'br-' + (await ok(['network', 'inspect', '-f', '{{.Id}}', 'tidy'])).trim().slice(0, 12);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await ok(['run', '-d', '--network', 'tidy', '-p', '0:80', 'busybox', 'sleep', '300'])).trim());
  ids.push((await ok(['run', '-d', 'busybox', 'sleep', '300'])).trim());
  assert.equal(veths(br).length, 3);
  await ok(['rm', '-f', ...ids]);
  for (const id of ids) assert.deepEqual(await leftovers(id), []);
  assert.deepEqual(veths(br), []);
  assert.deepEqual(veths(d.bridge), []);
  await ok(['network', 'rm', 'tidy']);
  assert.equal(fs.existsSync(`/sys/class/net/${br}`), false);
  assert.doesNotMatch((await run('/usr/sbin/iptables-save', [])).stdout, new RegExp(br));
});
