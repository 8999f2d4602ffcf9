import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CAPABILITIES,
  DEFAULT_CAPABILITIES,
  buildRlimits,
  buildSpec,
  mergeTmpfsOptions,
  parseProcLimits,
  parseSecurityOpts,
  replaceOrAppendEnv,
  resolveArgs,
  serializeSpec,
  tweakCapabilities,
} from '../../src/daemon/system/oci-spec.js';
import type { OciSpec, SpecInput } from '../../src/daemon/system/oci-spec.js';
import type { ContainerConfig, HostConfig } from '../../src/daemon/system/container-config.js';
import { hostsFile, resolvConf } from '../../src/daemon/system/etc-files.js';

let tmp = '';
let rootfs = '';
const AVAILABLE = CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'berth-spec-'));
  rootfs = path.join(tmp, 'rootfs');
  await mkdir(path.join(rootfs, 'etc'), { recursive: true });
  await writeFile(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n');
  await writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\nwww:x:33:\n');
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function input(config: ContainerConfig, hostConfig: HostConfig = {}, extra: Partial<SpecInput> = {}): SpecInput {
  const cfg = { Hostname: 'abc123', Cmd: ['sh'], ...config };
  return {
    id: 'c1',
    rootfs,
    config: cfg,
    hostConfig,
    args: resolveArgs(cfg),
    etcFiles: { hosts: '/run/x/hosts', hostname: '/run/x/hostname', resolvConf: '/run/x/resolv.conf' },
    cgroupParent: 'berth',
    hostRlimits: { nofile: { soft: 1024, hard: 20000 }, core: { soft: 0, hard: Infinity } },
    host: { cgroupV2: false, swapLimit: true, capabilities: AVAILABLE, kernel: '6.1.0', arch: 'amd64' },
    ...extra,
  };
}

const mount = (spec: OciSpec, dest: string) => spec.mounts.find((m) => m.destination === dest);

test('args: entrypoint then cmd; nothing is an error with dockerd text', () => {
  assert.deepEqual(resolveArgs({ Entrypoint: ['/e', '-x'], Cmd: ['a'] }), ['/e', '-x', 'a']);
  assert.deepEqual(resolveArgs({ Entrypoint: [''], Cmd: ['ls'] }), ['ls']);
  assert.throws(() => resolveArgs({}), { message: 'No command specified' });
  assert.throws(() => resolveArgs({ Entrypoint: [], Cmd: [] }), { message: 'No command specified' });
});

test('env: defaults, container overrides, unset by bare key, TERM with a tty, HOME from passwd', async () => {
  const spec = await buildSpec(input({ Env: ['PATH=/opt/bin', 'FOO=1'], Tty: true, User: 'web' }));
  assert.deepEqual(spec.process.env, ['PATH=/opt/bin', 'HOSTNAME=abc123', 'TERM=xterm', 'FOO=1', 'HOME=/var/www']);
  const plain = await buildSpec(input({}));
  assert.deepEqual(plain.process.env, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'HOSTNAME=abc123',
    'HOME=/root',
  ]);
  assert.deepEqual(replaceOrAppendEnv(['A=1', 'B=2'], ['A', 'C=3']), ['B=2', 'C=3']);
});

test('process: cwd, user ids, terminal, oom score', async () => {
  const spec = await buildSpec(input({ WorkingDir: '/app', User: 'web' }, { GroupAdd: ['root'], OomScoreAdj: 300 }));
  assert.equal(spec.process.cwd, '/app');
  assert.deepEqual(spec.process.user, { uid: 33, gid: 33, additionalGids: [33, 0] });
  assert.equal(spec.process.terminal, false);
  assert.equal(spec.process.oomScoreAdj, 300);
  assert.equal((await buildSpec(input({}))).process.cwd, '/');
});

test('capabilities: docker defaults; root gets them effective, other users only bounding', async () => {
  const root = await buildSpec(input({}));
  assert.deepEqual(root.process.capabilities, {
    bounding: DEFAULT_CAPABILITIES,
    effective: DEFAULT_CAPABILITIES,
    permitted: DEFAULT_CAPABILITIES,
  });
  const web = await buildSpec(input({ User: 'web' }));
  assert.deepEqual(web.process.capabilities, { bounding: DEFAULT_CAPABILITIES });
});

test('capabilities: add/drop, ALL, prefixes and case', () => {
  const caps = tweakCapabilities(['net_admin', 'CAP_SYS_PTRACE'], ['chown', 'Cap_Kill'], false, AVAILABLE);
  assert.ok(caps.includes('CAP_NET_ADMIN') && caps.includes('CAP_SYS_PTRACE'));
  assert.ok(!caps.includes('CAP_CHOWN') && !caps.includes('CAP_KILL'));
  assert.deepEqual(tweakCapabilities(['net_raw'], ['ALL'], false, AVAILABLE), ['CAP_NET_RAW']);
  const all = tweakCapabilities(['all'], ['mknod'], false, AVAILABLE);
  assert.equal(all.length, AVAILABLE.length - 1);
  assert.ok(!all.includes('CAP_MKNOD'));
  assert.throws(() => tweakCapabilities(['FOO'], [], false, AVAILABLE), { message: 'unknown capability: "CAP_FOO"' });
  assert.throws(() => tweakCapabilities(['SYS_RESOURCE'], [], false, AVAILABLE), {
    message: 'capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"',
  });
});

test('default mounts, masked and readonly paths, etc files, shm size', async () => {
  const spec = await buildSpec(input({}, { ShmSize: 128 * 1024 * 1024 }));
  assert.deepEqual(
    spec.mounts.map((m) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts'],
  );
  assert.ok(mount(spec, '/sys')!.options!.includes('ro'));
  assert.ok(mount(spec, '/sys/fs/cgroup')!.options!.includes('ro'));
  assert.ok(mount(spec, '/dev/shm')!.options!.includes(`size=${128 * 1024 * 1024}`));
  assert.deepEqual(mount(spec, '/etc/hosts'), { destination: '/etc/hosts', type: 'bind', source: '/run/x/hosts', options: ['rbind', 'rprivate'] });
  assert.ok(spec.linux.maskedPaths!.includes('/proc/kcore'));
  assert.ok(spec.linux.readonlyPaths!.includes('/proc/sys'));
  assert.equal(spec.root.readonly, false);
  const dflt = await buildSpec(input({}));
  assert.ok(mount(dflt, '/dev/shm')!.options!.includes('size=67108864'));
});

test('read-only rootfs: root and etc binds read-only', async () => {
  const spec = await buildSpec(input({}, { ReadonlyRootfs: true }));
  assert.equal(spec.root.readonly, true);
  assert.deepEqual(mount(spec, '/etc/resolv.conf')!.options, ['rbind', 'ro', 'rprivate']);
  assert.ok(!mount(spec, '/dev/shm')!.options!.includes('ro'));
});

test('tmpfs mounts merge options and replace a default at the same path', async () => {
  const spec = await buildSpec(input({}, { Tmpfs: { '/run': 'exec,size=10m', '/dev/shm': '' } }));
  assert.deepEqual(mount(spec, '/run')!.options, ['nosuid', 'nodev', 'rprivate', 'exec', 'size=10m']);
  const shm = spec.mounts.filter((m) => m.destination === '/dev/shm');
  assert.equal(shm.length, 1);
  assert.equal(shm[0]!.source, 'tmpfs');
  assert.deepEqual(mergeTmpfsOptions(['ro', 'size=1', 'rw', 'size=2']), ['rw', 'size=2']);
});

test('namespaces: new by default, host and joined modes', async () => {
  const types = (s: { linux: { namespaces: { type: string; path?: string }[] } }) => s.linux.namespaces;
  const dflt = await buildSpec(input({}));
  assert.deepEqual(types(dflt).map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
  assert.equal(dflt.hostname, 'abc123');

  const host = await buildSpec(input({}, { NetworkMode: 'host', PidMode: 'host', IpcMode: 'host', UTSMode: 'host' }));
  assert.deepEqual(types(host), [{ type: 'mount' }]);
  assert.equal(host.hostname, undefined);
  assert.equal(mount(host, '/dev/shm')!.source, '/dev/shm');

  const joined = await buildSpec(input({}, { NetworkMode: 'bridge' }, { netnsPath: '/run/netns/x' }));
  assert.deepEqual(types(joined).find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });

  const v2 = await buildSpec(input({}, {}, { host: { cgroupV2: true, capabilities: AVAILABLE, kernel: '6.1.0', arch: 'amd64' } }));
  assert.ok(types(v2).some((n) => n.type === 'cgroup'), 'private cgroupns on pure v2');
  assert.ok(!types(dflt).some((n) => n.type === 'cgroup'), 'host cgroupns on v1/hybrid');
});

test('resources: memory with default swap, nano cpus, pids, device rules, cgroups path', async () => {
  const spec = await buildSpec(input({}, { Memory: 64 << 20, MemoryReservation: 32 << 20, NanoCpus: 1.5e9, PidsLimit: 100, CpuShares: 512, CpusetCpus: '0' }));
  const r = spec.linux.resources;
  assert.deepEqual(r.memory, { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20 });
  assert.deepEqual(r.cpu, { shares: 512, period: 100000, quota: 150000, cpus: '0' });
  assert.deepEqual(r.pids, { limit: 100 });
  assert.deepEqual(r.devices![0], { allow: false, access: 'rwm' });
  assert.ok(r.devices!.some((d) => d.allow && d.type === 'c' && d.major === 1 && d.minor === 3 && d.access === 'rwm'));
  assert.ok(r.devices!.some((d) => d.allow && d.type === 'c' && d.major === 136 && d.minor === undefined));
  assert.equal(spec.linux.cgroupsPath, '/berth/c1');

  const quota = await buildSpec(input({}, { CpuPeriod: 50000, CpuQuota: 25000, Memory: 64 << 20, MemorySwap: -1, PidsLimit: -1 }));
  assert.deepEqual(quota.linux.resources.cpu, { period: 50000, quota: 25000 });
  assert.equal(quota.linux.resources.memory!.swap, -1);
  assert.deepEqual(quota.linux.resources.pids, { limit: -1 });
  const noswap = await buildSpec(input({}, { Memory: 64 << 20 }, { host: { cgroupV2: false, swapLimit: false, capabilities: AVAILABLE, kernel: '6.1.0', arch: 'amd64' } }));
  assert.equal(noswap.linux.resources.memory!.swap, undefined);
});

test('rlimits: only what was asked, clamped to the host hard limit', async () => {
  const spec = await buildSpec(input({}, { Ulimits: [{ Name: 'nofile', Soft: 65536, Hard: 65536 }, { Name: 'core', Soft: -1, Hard: -1 }] }));
  assert.deepEqual(spec.process.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
    { type: 'RLIMIT_CORE', soft: Infinity, hard: Infinity },
  ]);
  assert.match(serializeSpec(spec), /"type": "RLIMIT_CORE",\s*"hard": 18446744073709551615,\s*"soft": 18446744073709551615/);
  assert.equal((await buildSpec(input({}))).process.rlimits, undefined);
  assert.deepEqual(buildRlimits([{ Name: 'nofile', Soft: 100, Hard: 500 }], { nofile: { soft: 1, hard: 20000 } }), [
    { type: 'RLIMIT_NOFILE', soft: 100, hard: 500 },
  ]);
});

test('parseProcLimits reads the kernel table', () => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max core file size        0                    unlimited            bytes     ',
    'Max open files            20000                20000                files     ',
    'Max realtime timeout      unlimited            unlimited            us        ',
  ].join('\n');
  assert.deepEqual(parseProcLimits(text), {
    core: { soft: 0, hard: Infinity },
    nofile: { soft: 20000, hard: 20000 },
    rttime: { soft: Infinity, hard: Infinity },
  });
});

test('security options: seccomp default, unconfined, inline profile, no-new-privileges', async () => {
  const dflt = await buildSpec(input({}));
  assert.equal(dflt.linux.seccomp!.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(dflt.process.noNewPrivileges, false);
  const unconfined = await buildSpec(input({}, { SecurityOpt: ['seccomp=unconfined', 'no-new-privileges', 'apparmor=unconfined', 'label=disable'] }));
  assert.equal(unconfined.linux.seccomp, undefined);
  assert.equal(unconfined.process.noNewPrivileges, true);
  const inline = await buildSpec(input({}, { SecurityOpt: [`seccomp=${JSON.stringify({ defaultAction: 'SCMP_ACT_LOG', syscalls: [] })}`] }));
  assert.deepEqual(inline.linux.seccomp, { defaultAction: 'SCMP_ACT_LOG', syscalls: [] });
  assert.throws(() => parseSecurityOpts(['bogus']), { message: 'invalid --security-opt 1: "bogus"' });
  assert.throws(() => parseSecurityOpts(['foo=bar']), { message: 'invalid --security-opt 2: "foo=bar"' });
  assert.equal(parseSecurityOpts(['no-new-privileges=false']).noNewPrivileges, false);
  await assert.rejects(buildSpec(input({}, { SecurityOpt: ['seccomp={bad'] })), { message: /^Decoding seccomp profile failed/ });
});

test('privileged: every available cap, no seccomp, no masked paths, rw sysfs, all devices', async () => {
  const spec = await buildSpec(input({}, { Privileged: true }));
  assert.deepEqual(spec.process.capabilities!.bounding, AVAILABLE);
  assert.equal(spec.linux.seccomp, undefined);
  assert.deepEqual(spec.linux.maskedPaths, []);
  assert.deepEqual(spec.linux.readonlyPaths, []);
  assert.ok(mount(spec, '/sys')!.options!.includes('rw'));
  assert.deepEqual(spec.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(spec.linux.devices!.some((d) => d.path === '/dev/null' && d.major === 1 && d.minor === 3));
});

test('init: tini bound read-only and prepended', async () => {
  const spec = await buildSpec(input({ Cmd: ['sleep', '1'] }, { Init: true }, { initPath: '/usr/bin/tini-static' }));
  assert.deepEqual(spec.process.args, ['/sbin/docker-init', '--', 'sleep', '1']);
  assert.deepEqual(mount(spec, '/sbin/docker-init'), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro'] });
});

test('sysctls: user values, domainname, unprivileged ports in private netns only', async () => {
  const spec = await buildSpec(input({ Domainname: 'example.org' }, { Sysctls: { 'net.core.somaxconn': '1024' } }));
  assert.deepEqual(spec.linux.sysctl, {
    'net.core.somaxconn': '1024',
    'kernel.domainname': 'example.org',
    'net.ipv4.ip_unprivileged_port_start': '0',
    'net.ipv4.ping_group_range': '0 2147483647',
  });
  const host = await buildSpec(input({}, { NetworkMode: 'host' }));
  assert.equal(host.linux.sysctl, undefined);
});

test('hosts file: loopback lines, extra hosts, then the container', () => {
  assert.equal(
    hostsFile({ hostname: 'web', domainname: 'lan', ip: '172.17.0.2', extraHosts: ['db:10.0.0.5', 'v6:::1'] }),
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n' +
      'ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n10.0.0.5\tdb\n::1\tv6\n172.17.0.2\tweb.lan web\n',
  );
  assert.throws(() => hostsFile({ hostname: 'x', extraHosts: ['db:notanip'] }), { message: 'invalid IP address in add-host: "notanip"' });
});

test('resolv.conf: localhost nameservers dropped, defaults when none remain', () => {
  const host = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example\n';
  assert.equal(
    resolvConf(host, { networkMode: 'bridge' }),
    '# Generated by Docker Engine.\n# This file can be edited; Docker Engine will not make further changes once it\n# has been modified.\n\n' +
      'nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch corp.example\noptions edns0 trust-ad\n\n' +
      "# Based on host file: '/etc/resolv.conf' (legacy)\n# Used default nameservers.\n# Overrides: []\n",
  );
  const kept = resolvConf('nameserver 10.0.0.1\nnameserver 127.0.0.1\n', { networkMode: 'bridge' });
  assert.match(kept, /^nameserver 10\.0\.0\.1$/m);
  assert.doesNotMatch(kept, /127\.0\.0\.1|8\.8\.8\.8/);
  const over = resolvConf(host, { networkMode: 'bridge', dns: ['1.1.1.1'], dnsSearch: ['a.b'], dnsOptions: ['ndots:2'] });
  assert.match(over, /^nameserver 1\.1\.1\.1\nsearch a\.b\noptions ndots:2$/m);
  assert.match(over, /# Overrides: \[nameservers search options\]\n# Option ndots from: override\n$/);
  assert.equal(resolvConf(host, { networkMode: 'host' }), host);
});
