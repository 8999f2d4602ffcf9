// Overlay gaps on one swarm of two lab hosts (a manager and a worker):
// `swarm init --data-path-port` (VXLAN on another UDP port, shown in swarm
// inspect and info), the overlay address of a plain container in `container
// inspect`, `network disconnect` of an attachable overlay (and connecting
// again), dual-stack (IPv6) overlays, and `--opt encrypted` (IPsec ESP)
// refused with one clear message where the kernel has no ESP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SwarmLab, type SwarmHost } from '../helpers/swarm-lab.js';
import { run, until, type RunResult } from '../helpers/daemon.js';

const lab = new SwarmLab();
let m: SwarmHost;
let w: SwarmHost;
const PORT = 4790;

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const ipIn = async (h: SwarmHost, args: string[]) => ok(await run('/usr/sbin/ip', ['-n', h.netns, ...args]), `ip ${args.join(' ')} on ${h.name}`);
const bridgeIn = async (h: SwarmHost, args: string[]) => ok(await run('/usr/sbin/bridge', ['-n', h.netns, ...args]), `bridge ${args.join(' ')} on ${h.name}`);

async function inspectNet(h: SwarmHost, net: string): Promise<any> {
  return JSON.parse(ok(await h.daemon.berth(['network', 'inspect', net]), `network inspect ${net} on ${h.name}`))[0];
}

async function overlayOf(h: SwarmHost, ctr: string, net: string): Promise<any> {
  return JSON.parse(ok(await h.daemon.berth(['inspect', ctr]), `inspect ${ctr}`))[0].NetworkSettings.Networks[net];
}

/** The container's address on `net` once the managers gave it one and its node plugged it in. */
async function addrOn(h: SwarmHost, ctr: string, net: string): Promise<string> {
  let ip = '';
  await until(async () => {
    ip = (await overlayOf(h, ctr, net))?.IPAddress ?? '';
    return ip && (await h.daemon.berth(['exec', ctr, 'ip', '-o', 'addr'])).stdout.includes(` ${ip}/`);
  }, 30_000, 300);
  return ip;
}

const pings = async (h: SwarmHost, ctr: string, ip: string) => (await h.daemon.berth(['exec', ctr, 'ping', '-c', '1', '-W', '1', ip])).code === 0;

describe('swarm overlay gaps: manager + worker', { timeout: 170_000 }, () => {
  before(async () => {
    await lab.setup(2);
    [m, w] = lab.hosts as [SwarmHost, SwarmHost];
    await lab.startAll();
    for (const h of lab.hosts) await h.daemon.makeBusybox();
  });
  after(async () => {
    await lab.cleanup();
  });

  test('swarm init --data-path-port: docker\'s range check; the port in swarm inspect and info', async () => {
    for (const bad of ['80', '49152']) {
      const r = await m.daemon.berth(['swarm', 'init', '--advertise-addr', m.addr, '--data-path-port', bad]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`Datapath port number is not in valid range \\(1024-49151\\) : ${bad}`));
    }
    assert.match(ok(await m.daemon.berth(['info', '--format', '{{.Swarm.LocalNodeState}}']), 'info'), /inactive/);
    await lab.formSwarm(['--data-path-port', String(PORT)]);
    assert.equal(JSON.parse(ok(await m.daemon.berth(['swarm', 'inspect']), 'swarm inspect'))[0].DataPathPort, PORT);
    assert.match(ok(await m.daemon.berth(['info']), 'info'), new RegExp(`\\n  Data Path Port: ${PORT}\\n`));
  });

  test('plain containers on an attachable overlay: VXLAN on the data-path port, the address in container inspect; disconnect and connect again', async () => {
    ok(await m.daemon.berth(['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.50.0.0/24', 'attnet']), 'create attnet');
    ok(await m.daemon.berth(['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.51.0.0/24', 'other']), 'create other');
    ok(await m.daemon.berth(['run', '-d', '--name', 'oa', '--network', 'attnet', 'busybox', 'sleep', '100000']), 'run a');
    // b: by `run --network` (the label); c: by `network connect` (the attachments file).
    // On the worker at once (it asks a manager; its next heartbeat would be a second away).
    ok(await w.daemon.berth(['run', '-d', '--name', 'ob', '--network', 'attnet', 'busybox', 'sleep', '100000']), 'run b');
    ok(await w.daemon.berth(['run', '-d', '--name', 'oc', 'busybox', 'sleep', '100000']), 'run c');
    ok(await w.daemon.berth(['network', 'connect', 'attnet', 'oc']), 'connect c');
    const [ipA, ipB, ipC] = [await addrOn(m, 'oa', 'attnet'), await addrOn(w, 'ob', 'attnet'), await addrOn(w, 'oc', 'attnet')];
    for (const ip of [ipB, ipC]) assert.ok(await until(() => pings(m, 'oa', ip), 20_000, 300).catch(() => false), `a → ${ip}`);

    // The VXLAN devices use the swarm's port.
    for (const h of [m, w]) {
      const vx = await ipIn(h, ['-d', 'link', 'show', 'type', 'vxlan']);
      assert.match(vx, new RegExp(`dstport ${PORT} `), `${h.name}: ${vx}`);
      assert.doesNotMatch(vx, /dstport 4789 /);
    }

    // container inspect: the overlay beside the default bridge, as network inspect has it.
    const net = await inspectNet(w, 'attnet');
    const bId = ok(await w.daemon.berth(['inspect', '-f', '{{.Id}}', 'ob']), 'id').trim();
    const nb = await overlayOf(w, 'ob', 'attnet');
    assert.equal(nb.NetworkID, net.Id);
    assert.equal(nb.IPAddress, ipB);
    assert.equal(nb.IPPrefixLen, 24);
    assert.equal(nb.Gateway, '');
    assert.deepEqual(nb.IPAMConfig, { IPv4Address: ipB });
    assert.equal(nb.EndpointID, net.Containers[bId].EndpointID);
    assert.match(nb.EndpointID, /^[0-9a-f]{64}$/);
    assert.equal(nb.MacAddress, net.Containers[bId].MacAddress);
    assert.deepEqual(nb.DNSNames, ['ob', bId.slice(0, 12)]);
    const settings = JSON.parse(ok(await w.daemon.berth(['inspect', 'ob']), 'inspect b'))[0].NetworkSettings;
    assert.deepEqual(Object.keys(settings.Networks).sort(), ['attnet', 'bridge']);
    assert.match(ok(await w.daemon.berth(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}', 'oc']), 'format'), new RegExp(`attnet=${ipC.replace(/\./g, '\\.')} `));
    assert.match(ok(await w.daemon.berth(['ps', '--filter', 'name=oc', '--format', '{{.Networks}}']), 'ps'), /attnet/);

    // Not connected: docker's errors.
    const cId = ok(await w.daemon.berth(['inspect', '-f', '{{.Id}}', 'oc']), 'id').trim();
    let r = await w.daemon.berth(['network', 'disconnect', 'other', 'oc']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`Error response from daemon: container ${cId} is not connected to network other`));
    r = await w.daemon.berth(['network', 'disconnect', 'attnet', 'nosuchctr']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such container: nosuchctr/);
    r = await w.daemon.berth(['network', 'connect', 'attnet', 'oc']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /endpoint with name oc already exists in network attnet/);

    // Disconnect b (from its label) and c (connected): their interfaces go before the command returns.
    const macB = nb.MacAddress as string;
    // The VXLAN device's static entry (`… dst <vtep> self permanent`); the bridge's learned one ages out by itself.
    const fdbHasB = async () => (await bridgeIn(m, ['fdb', 'show'])).split('\n').some((l) => l.startsWith(`${macB} `) && l.includes(` dst ${w.addr} `));
    const neighHasB = async () => new RegExp(`^${ipB.replace(/\./g, '\\.')} `, 'm').test(await ipIn(m, ['neigh', 'show', 'nud', 'permanent']));
    assert.ok((await fdbHasB()) && (await neighHasB()), 'the manager has fdb and neighbour entries for b');
    ok(await w.daemon.berth(['network', 'disconnect', 'attnet', 'ob']), 'disconnect b');
    ok(await w.daemon.berth(['network', 'disconnect', 'attnet', cId.slice(0, 12)]), 'disconnect c');
    for (const [ctr, ip] of [['ob', ipB], ['oc', ipC]] as const) {
      const addrs = ok(await w.daemon.berth(['exec', ctr, 'ip', '-o', 'addr']), `addrs of ${ctr}`);
      assert.doesNotMatch(addrs, new RegExp(` ${ip.replace(/\./g, '\\.')}/`), `${ctr} still has its overlay address: ${addrs}`);
      assert.notEqual((await w.daemon.berth(['exec', ctr, 'ip', 'link', 'show', 'eth1'])).code, 0, `${ctr} still has eth1`);
      assert.equal(await overlayOf(w, ctr, 'attnet'), undefined);
    }
    assert.deepEqual(Object.keys(JSON.parse(ok(await w.daemon.berth(['inspect', 'ob']), 'inspect b'))[0].NetworkSettings.Networks), ['bridge']);
    // The peers forget them; with nothing left on it the worker no longer shows the network.
    await until(async () => !(await fdbHasB()) && !(await neighHasB()), 15_000, 300);
    assert.equal(await pings(m, 'oa', ipB), false);
    await until(async () => (await w.daemon.api('GET', '/networks/attnet')).status === 404, 15_000, 300);
    await until(async () => Object.keys((await inspectNet(m, 'attnet')).Containers).length === 1, 15_000, 300);
    r = await w.daemon.berth(['network', 'disconnect', 'attnet', 'ob']);
    assert.equal(r.code, 1);
    const bNow = ok(await w.daemon.berth(['inspect', '-f', '{{.Id}}', 'ob']), 'id').trim();
    assert.match(r.stderr, new RegExp(`container ${bNow} is not connected to network attnet`));

    // Connect again: a (new) address, reachable across the hosts; a restart keeps the choice.
    ok(await w.daemon.berth(['network', 'connect', 'attnet', 'ob']), 'connect b again');
    // Plugged when the command returns.
    const ipB2 = (await overlayOf(w, 'ob', 'attnet'))?.IPAddress;
    assert.match(ipB2, /^10\.50\.0\.\d+$/);
    assert.match(ok(await w.daemon.berth(['exec', 'ob', 'ip', '-o', 'addr']), 'addrs'), new RegExp(` ${ipB2.replace(/\./g, '\\.')}/24 `));
    assert.ok(await until(() => pings(m, 'oa', ipB2), 20_000, 300).catch(() => false), `a → b again (${ipB2})`);
    assert.ok(await until(() => pings(w, 'ob', ipA), 20_000, 300).catch(() => false), `b → a (${ipA})`);
    ok(await w.daemon.berth(['restart', '-t', '0', 'oc']), 'restart c');
    await new Promise((res) => setTimeout(res, 2500));
    assert.equal(await overlayOf(w, 'oc', 'attnet'), undefined, 'c is back on attnet after a restart');
    // A container that never ran: disconnect takes it off the network before it starts.
    ok(await w.daemon.berth(['create', '--name', 'od', '--network', 'attnet', 'busybox', 'sleep', '100000']), 'create od');
    assert.deepEqual(Object.keys(JSON.parse(ok(await w.daemon.berth(['inspect', 'od']), 'inspect od'))[0].NetworkSettings.Networks).sort(), ['attnet', 'bridge']);
    ok(await w.daemon.berth(['network', 'disconnect', 'attnet', 'od']), 'disconnect od');
    ok(await w.daemon.berth(['start', 'od']), 'start od');
    assert.deepEqual(Object.keys(JSON.parse(ok(await w.daemon.berth(['inspect', 'od']), 'inspect od'))[0].NetworkSettings.Networks), ['bridge']);
    assert.notEqual((await w.daemon.berth(['exec', 'od', 'ip', 'link', 'show', 'eth1'])).code, 0, 'od got eth1');
    ok(await w.daemon.berth(['rm', '-f', 'ob', 'oc', 'od']), 'rm');
    ok(await m.daemon.berth(['rm', '-f', 'oa']), 'rm a');
  });

  test('IPv6 overlay: --ipv6 --subnet; a global service\'s tasks on both hosts reach each other over IPv6 and resolve by AAAA', async () => {
    const bad = await m.daemon.berth(['network', 'create', '-d', 'overlay', '--subnet', 'fd00:5b::/64', 'nov6']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /IPv6 subnet fd00:5b::\/64 needs IPv6 enabled on the network \(--ipv6\)/);
    ok(await m.daemon.berth(['network', 'create', '-d', 'overlay', '--ipv6', '--subnet', 'fd00:5a::/64', 'v6net']), 'create v6net');
    const net = await inspectNet(m, 'v6net');
    assert.equal(net.EnableIPv6, true);
    assert.equal(net.IPAM.Config.length, 2, JSON.stringify(net.IPAM));
    assert.match(net.IPAM.Config[0].Subnet, /^10\.\d+\.\d+\.0\/24$/);
    assert.deepEqual(net.IPAM.Config[1], { Subnet: 'fd00:5a::/64', Gateway: 'fd00:5a::1' });
    assert.equal((await m.daemon.berth(['network', 'create', '-d', 'overlay', '--ipv6', '--subnet', 'fd00:5a:0:0:1::/80', 'clash'])).code, 1);

    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'six', '--mode', 'global', '--network', 'v6net', '--stop-grace-period', '1s', 'busybox', 'sleep', '100000']), 'service create');
    let tasks: any[] = [];
    await until(async () => {
      const r = await m.daemon.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: ['six'], 'desired-state': ['running'] }))}`);
      tasks = (r.json() as any[]).filter((t) => t.Status.State === 'running');
      return tasks.length === 2;
    }, 60_000, 300);
    const v6Of = (t: any) => String(t.NetworksAttachments.find((a: any) => a.Network.Spec.Name === 'v6net').Addresses.find((x: string) => x.includes(':'))).split('/')[0]!;
    const addrs = tasks.map(v6Of);
    for (const a of addrs) assert.match(a, /^fd00:5a::[0-9a-f]+$/);
    const ctrOf = async (h: SwarmHost) => {
      const list = (await h.daemon.api('GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: ['com.docker.swarm.service.name=six'] }))}`)).json() as any[];
      assert.equal(list.length, 1);
      return list[0].Id as string;
    };
    const [cm, cw] = [await ctrOf(m), await ctrOf(w)];
    const [v6m, v6w] = [(await overlayOf(m, cm, 'v6net')).GlobalIPv6Address, (await overlayOf(w, cw, 'v6net')).GlobalIPv6Address];
    assert.deepEqual([v6m, v6w].sort(), [...addrs].sort());
    assert.equal((await overlayOf(m, cm, 'v6net')).GlobalIPv6PrefixLen, 64);
    assert.match(ok(await m.daemon.berth(['exec', cm, 'ip', '-o', 'addr']), 'addrs'), new RegExp(` ${v6m}/64 `));
    const ping6 = async (h: SwarmHost, c: string, ip: string) => (await h.daemon.berth(['exec', c, 'ping', '-6', '-c', '1', '-W', '1', ip])).code === 0;
    assert.ok(await until(() => ping6(m, cm, v6w), 20_000, 300).catch(() => false), `${v6m} → ${v6w}`);
    assert.ok(await until(() => ping6(w, cw, v6m), 20_000, 300).catch(() => false), `${v6w} → ${v6m}`);
    // The network inspect of a node lists its container's IPv6 address; the embedded DNS answers AAAA for tasks.<service>.
    const wnet = await inspectNet(w, 'v6net');
    assert.equal(wnet.Containers[cw].IPv6Address, `${v6w}/64`);
    const aaaa = (await m.daemon.berth(['exec', cm, 'nslookup', '-type=aaaa', 'tasks.six'])).stdout;
    for (const a of addrs) assert.match(aaaa, new RegExp(`Address:\\s*${a}\\b`), aaaa);
    ok(await m.daemon.berth(['service', 'rm', 'six']), 'service rm');
  });

  test('--opt encrypted: IPsec ESP, refused with one clear message where the kernel lacks it', async () => {
    // The same probe the daemon makes: one ESP state in a throw-away namespace.
    const probe = await run('/usr/bin/unshare', ['--net', '/usr/sbin/ip', 'xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x1', 'mode', 'transport',
      'enc', 'cbc(aes)', `0x${'00'.repeat(16)}`, 'auth-trunc', 'hmac(sha256)', `0x${'00'.repeat(32)}`, '128']);
    const r = await m.daemon.berth(['network', 'create', '-d', 'overlay', '--opt', 'encrypted', 'secnet']);
    assert.equal(r.code, 1);
    if (probe.code !== 0) {
      assert.match(r.stderr, /^Error response from daemon: cannot create encrypted network secnet: required modules to install IPSEC rules are missing on host \(the kernel has no IPsec ESP: .+\)\n$/);
    } else {
      assert.match(r.stderr, /encrypted overlay networks \(--opt encrypted\) are not supported by berth yet/);
    }
    assert.doesNotMatch(ok(await m.daemon.berth(['network', 'ls']), 'ls'), /secnet/);
  });
});
