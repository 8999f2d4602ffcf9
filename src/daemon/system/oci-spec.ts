/**
 * From a Docker container (config merged with its image, host config) to the
 * OCI runtime spec runc runs, with dockerd's defaults: capabilities, mounts,
 * masked paths, namespaces, device rules, resources, rlimits and seccomp.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { badRequest } from '../errors.js';
import type { ContainerConfig, HostConfig } from './container-config.js';
import { goArch, loadDefaultProfile, parseProfile, seccompFromProfile } from './seccomp.js';
import type { DockerSeccompProfile, OciSeccomp } from './seccomp.js';
import { lookupUser } from './user-lookup.js';
import { cgroupRules, customDevices } from './devices.js';
import type { ResolvedUser } from './user-lookup.js';

// ---- OCI runtime spec (the parts berth writes) ----

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciRlimit {
  type: string;
  /** Infinity means RLIM_INFINITY; serializeSpec writes it as the uint64 maximum. */
  hard: number;
  soft: number;
}

export interface OciUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
  umask?: number;
}

export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  permitted?: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface OciProcess {
  terminal?: boolean;
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

export interface OciDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciResources {
  devices?: OciDeviceCgroup[];
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
  };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
}

export type OciNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

export interface OciNamespace {
  type: OciNamespaceType;
  path?: string;
}

export interface OciLinux {
  namespaces: OciNamespace[];
  resources: OciResources;
  cgroupsPath: string;
  devices?: OciDevice[];
  sysctl?: Record<string, string>;
  seccomp?: OciSeccomp;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts: OciMount[];
  linux: OciLinux;
  annotations?: Record<string, string>;
}

// ---- inputs ----

export interface SpecInput {
  id: string;
  /** Absolute path of the mounted container rootfs. */
  rootfs: string;
  /** Already merged with the image config. */
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Resolved process args (Entrypoint + Cmd), from resolveArgs. */
  args: string[];
  /** Network namespace to join; undefined with NetworkMode 'host' → no netns; otherwise a new one. */
  netnsPath?: string;
  /** Host paths bound over /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  /** e.g. "berth" (daemon default) or HostConfig.CgroupParent. */
  cgroupParent: string;
  /** For clamping ulimits; read from /proc/self/limits when omitted. */
  hostRlimits?: Record<string, { soft: number; hard: number }>;
  /** With HostConfig.Init: host path of tini, bound at /sbin/docker-init and prepended. */
  initPath?: string;
  /** The daemon's default seccomp profile; assets/seccomp-default.json when omitted. */
  seccompProfile?: DockerSeccompProfile;
  /** Namespaces of other containers to join, for ipc/pid `container:<id>` modes. */
  namespacePaths?: { ipc?: string; pid?: string };
  /** Host directory to bind at /dev/shm (shareable IPC or `container:<id>`); a private tmpfs otherwise. */
  shmPath?: string;
  /** Further mounts the caller resolved (binds, volumes); they replace defaults at the same destination. */
  mounts?: OciMount[];
  /** Host facts, detected when omitted (tests pin them). */
  host?: {
    cgroupV2?: boolean;
    swapLimit?: boolean;
    capabilities?: string[];
    kernel?: string;
    arch?: string;
  };
}

// ---- capabilities ----

/** Capability names by number (linux/capability.h). */
export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/**
 * The capabilities this process can hand out (its bounding set), like
 * dockerd: "all" for a privileged container means what the daemon has.
 */
export async function hostCapabilities(): Promise<string[]> {
  try {
    const status = await readFile('/proc/self/status', 'utf8');
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status);
    if (!m) return [...CAPABILITIES];
    const mask = BigInt(`0x${m[1]}`);
    return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
  } catch {
    return [...CAPABILITIES];
  }
}

function normalizeCaps(list: string[], available: string[]): string[] {
  return list.map((c) => {
    let name = c.toUpperCase();
    if (name === 'ALL') return name;
    if (!name.startsWith('CAP_')) name = `CAP_${name}`;
    if (!(CAPABILITIES as readonly string[]).includes(name)) throw badRequest(`unknown capability: "${name}"`);
    if (!available.includes(name)) {
      throw badRequest(`capability not supported by your kernel or not available in the current environment: "${name}"`);
    }
    return name;
  });
}

/** dockerd's CapAdd/CapDrop rules over the default set; `available` is what "ALL" means. */
export function tweakCapabilities(
  adds: string[],
  drops: string[],
  privileged: boolean,
  available: string[],
  basics: string[] = DEFAULT_CAPABILITIES,
): string[] {
  if (privileged) return [...available];
  if (adds.length === 0 && drops.length === 0) return [...basics];
  const capDrop = normalizeCaps(drops, available);
  const capAdd = normalizeCaps(adds, available);
  if (capAdd.includes('ALL')) return available.filter((c) => !capDrop.includes(c));
  if (capDrop.includes('ALL')) return capAdd;
  return [...basics.filter((c) => !capDrop.includes(c)), ...capAdd];
}

// ---- process args and env ----

/** Entrypoint + Cmd, as dockerd runs them. */
export function resolveArgs(cfg: ContainerConfig): string[] {
  let entrypoint = cfg.Entrypoint ?? [];
  // `--entrypoint ""` arrives as [""]: no entrypoint at all.
  if (entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  const args = [...entrypoint, ...(cfg.Cmd ?? [])];
  if (args.length === 0) throw badRequest('No command specified');
  return args;
}

export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** dockerd's ReplaceOrAppendEnvValues: overrides replace by key, "KEY" alone unsets. */
export function replaceOrAppendEnv(defaults: string[], overrides: string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(e!.split('=')[0]!, i));
  for (const v of overrides) {
    const eq = v.indexOf('=');
    if (eq < 0) {
      const i = index.get(v);
      if (i !== undefined) out[i] = undefined;
      continue;
    }
    const i = index.get(v.slice(0, eq));
    if (i !== undefined) out[i] = v;
    else out.push(v);
  }
  return out.filter((e): e is string => e !== undefined);
}

function processEnv(cfg: ContainerConfig, home: string): string[] {
  const base = [`PATH=${DEFAULT_PATH_ENV}`, `HOSTNAME=${cfg.Hostname ?? ''}`];
  if (cfg.Tty) base.push('TERM=xterm');
  const env = replaceOrAppendEnv(base, cfg.Env ?? []);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${home}`);
  return env;
}

/** The container user as dockerd resolves it (no GroupAdd). */
export async function resolveUser(
  rootfs: string,
  user: string | undefined,
): Promise<{ uid: number; gid: number; additionalGids: number[]; home: string }> {
  return lookupUser(rootfs, user);
}

// ---- mounts ----

export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

function defaultMounts(hc: HostConfig, shmPath: string | undefined): OciMount[] {
  const privileged = hc.Privileged === true;
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  const ipc = hc.IpcMode ?? '';
  if (ipc === 'host') {
    mounts.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
  } else if (shmPath) {
    mounts.push({ destination: '/dev/shm', type: 'bind', source: shmPath, options: ['rbind', 'rprivate'] });
  } else if (ipc !== 'none') {
    const size = hc.ShmSize && hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE;
    mounts.push({
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${size}`],
    });
  }
  return mounts;
}

/** Flag pairs where a later one cancels the earlier (moby's tmpfs option merge). */
const FLAG_GROUPS: string[][] = [
  ['ro', 'rw'], ['exec', 'noexec'], ['suid', 'nosuid'], ['dev', 'nodev'], ['sync', 'async'],
  ['atime', 'noatime'], ['diratime', 'nodiratime'], ['relatime', 'norelatime'],
  ['strictatime', 'nostrictatime'], ['dirsync'], ['mand', 'nomand'],
  ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'],
];

/** Keep the last word of each conflicting group and the last value of each key=value. */
export function mergeTmpfsOptions(options: string[]): string[] {
  const out: string[] = [];
  const seenGroups = new Set<number>();
  const seenKeys = new Set<string>();
  for (let i = options.length - 1; i >= 0; i--) {
    const opt = options[i]!;
    if (opt === '') continue;
    const eq = opt.indexOf('=');
    if (eq >= 0) {
      const key = opt.slice(0, eq);
      if (seenKeys.has(key)) continue;
      seenKeys.add(key);
    } else {
      const g = FLAG_GROUPS.findIndex((grp) => grp.includes(opt));
      if (g >= 0) {
        if (seenGroups.has(g)) continue;
        seenGroups.add(g);
      } else if (out.includes(opt)) continue;
    }
    out.unshift(opt);
  }
  return out;
}

const depth = (p: string) => path.posix.normalize(p).split('/').filter(Boolean).length;

function assembleMounts(input: SpecInput): OciMount[] {
  const hc = input.hostConfig;
  const readonly = hc.ReadonlyRootfs === true;
  const bindOpts = readonly ? ['rbind', 'ro', 'rprivate'] : ['rbind', 'rprivate'];
  const user: OciMount[] = [...(input.mounts ?? [])];

  for (const [dest, data] of Object.entries(hc.Tmpfs ?? {})) {
    if (!dest.startsWith('/')) throw badRequest(`invalid mount path: '${dest}' mount path must be absolute`);
    const opts = ['noexec', 'nosuid', 'nodev', 'rprivate', ...(data ? data.split(',') : [])];
    user.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: mergeTmpfsOptions(opts) });
  }

  const etc: [string, string][] = [
    ['/etc/resolv.conf', input.etcFiles.resolvConf],
    ['/etc/hostname', input.etcFiles.hostname],
    ['/etc/hosts', input.etcFiles.hosts],
  ];
  for (const [dest, source] of etc) {
    if (!user.some((m) => m.destination === dest)) user.push({ destination: dest, type: 'bind', source, options: [...bindOpts] });
  }

  if (hc.Init) {
    if (!input.initPath) throw badRequest('the docker-init binary is not available on this host');
    user.push({ destination: '/sbin/docker-init', type: 'bind', source: input.initPath, options: ['bind', 'ro'] });
  }

  const userDests = new Set(user.map((m) => path.posix.normalize(m.destination)));
  const defaults = defaultMounts(hc, input.shmPath).filter((m) => {
    if (userDests.has(m.destination)) return false;
    // A user /dev replaces everything the defaults put under it.
    return !(m.destination.startsWith('/dev/') && userDests.has('/dev'));
  });
  if (readonly) {
    const keepWritable = new Set(['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev']);
    for (const m of defaults) {
      if (!keepWritable.has(m.destination) && !m.options?.includes('ro')) {
        m.options = [...(m.options ?? []).filter((o) => o !== 'rw'), 'ro'];
      }
    }
  }
  // Parents before children, so a bind under another mount is not hidden by it.
  const sortedUser = user
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i)
    .map((x) => x.m);
  return [...defaults, ...sortedUser];
}

// ---- devices ----

const dev = (type: 'c' | 'b', major: number | undefined, minor: number | undefined): OciDeviceCgroup => ({
  allow: true,
  type,
  ...(major === undefined ? {} : { major }),
  ...(minor === undefined ? {} : { minor }),
  access: type === 'b' || major === undefined ? 'm' : 'rwm',
});

/** Deny everything, then the devices every container gets (runc's and dockerd's defaults). */
export function defaultDeviceRules(): OciDeviceCgroup[] {
  return [
    { allow: false, access: 'rwm' },
    dev('c', undefined, undefined), // mknod of any char device
    dev('b', undefined, undefined), // mknod of any block device
    dev('c', 1, 3), // null
    dev('c', 1, 8), // random
    dev('c', 1, 7), // full
    dev('c', 5, 0), // tty
    dev('c', 1, 5), // zero
    dev('c', 1, 9), // urandom
    { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
    dev('c', 5, 1), // console
    dev('c', 5, 2), // ptmx
    dev('c', 10, 200), // tun
  ];
}

const SKIP_DEV_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Every char and block device under the host's /dev, for privileged containers. */
export async function hostDevices(root = '/dev'): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DEV_DIRS.has(e.name)) await walk(full);
        continue;
      }
      if (full === '/dev/console' || !(e.isCharacterDevice() || e.isBlockDevice())) continue;
      try {
        const st = await stat(full, { bigint: true });
        const rdev = st.rdev;
        const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
        const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
        out.push({
          path: full,
          type: e.isCharacterDevice() ? 'c' : 'b',
          major,
          minor,
          fileMode: Number(st.mode & 0o7777n),
          uid: Number(st.uid),
          gid: Number(st.gid),
        });
      } catch {
        // gone while we walked
      }
    }
  };
  await walk(root);
  return out;
}

// ---- resources ----

export function buildResources(hc: HostConfig, swapLimit: boolean): OciResources {
  const r: OciResources = {};
  const memory: NonNullable<OciResources['memory']> = {};
  const mem = hc.Memory ?? 0;
  if (mem > 0) memory.limit = mem;
  if ((hc.MemoryReservation ?? 0) > 0) memory.reservation = hc.MemoryReservation!;
  if (swapLimit && mem > 0) {
    // dockerd's default: as much swap as memory (the limit covers both).
    const swap = hc.MemorySwap ?? 0;
    memory.swap = swap === 0 ? mem * 2 : swap;
  }
  if (hc.MemorySwappiness != null && hc.MemorySwappiness >= 0) memory.swappiness = hc.MemorySwappiness;
  if (hc.OomKillDisable != null) memory.disableOOMKiller = hc.OomKillDisable;
  if (Object.keys(memory).length > 0) r.memory = memory;

  const cpu: NonNullable<OciResources['cpu']> = {};
  if ((hc.CpuShares ?? 0) > 0) cpu.shares = Math.min(Math.max(hc.CpuShares!, 2), 262144);
  if ((hc.NanoCpus ?? 0) > 0) {
    cpu.period = 100000;
    cpu.quota = Math.trunc((hc.NanoCpus! * 100000) / 1e9);
  } else {
    if ((hc.CpuPeriod ?? 0) > 0) cpu.period = hc.CpuPeriod!;
    if ((hc.CpuQuota ?? 0) !== 0) cpu.quota = hc.CpuQuota!;
  }
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length > 0) r.cpu = cpu;

  // The API allows 0 and negatives to mean "unlimited"; runc wants -1 for that.
  if (hc.PidsLimit != null && hc.PidsLimit !== 0) r.pids = { limit: hc.PidsLimit > 0 ? hc.PidsLimit : -1 };

  r.devices = hc.Privileged ? [{ allow: true, access: 'rwm' }] : defaultDeviceRules();
  return r;
}

// ---- rlimits ----

const LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'cpu',
  'Max file size': 'fsize',
  'Max data size': 'data',
  'Max stack size': 'stack',
  'Max core file size': 'core',
  'Max resident set': 'rss',
  'Max processes': 'nproc',
  'Max open files': 'nofile',
  'Max locked memory': 'memlock',
  'Max address space': 'as',
  'Max file locks': 'locks',
  'Max pending signals': 'sigpending',
  'Max msgqueue size': 'msgqueue',
  'Max nice priority': 'nice',
  'Max realtime priority': 'rtprio',
  'Max realtime timeout': 'rttime',
};

/** Parse /proc/<pid>/limits into docker ulimit names; "unlimited" is Infinity. */
export function parseProcLimits(text: string): Record<string, { soft: number; hard: number }> {
  const out: Record<string, { soft: number; hard: number }> = {};
  const val = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  for (const line of text.split('\n').slice(1)) {
    const name = Object.keys(LIMIT_NAMES).find((n) => line.startsWith(n + ' '));
    if (!name) continue;
    const fields = line.slice(name.length).trim().split(/\s+/);
    out[LIMIT_NAMES[name]!] = { soft: val(fields[0]!), hard: val(fields[1]!) };
  }
  return out;
}

/**
 * HostConfig.Ulimits as OCI rlimits, each clamped to the host's hard limit:
 * without CAP_SYS_RESOURCE, runc cannot raise a limit above it.
 */
export function buildRlimits(
  ulimits: { Name: string; Soft: number; Hard: number }[],
  host: Record<string, { soft: number; hard: number }>,
): OciRlimit[] {
  const seen = new Set<string>();
  const out: OciRlimit[] = [];
  for (const u of ulimits) {
    if (seen.has(u.Name)) continue;
    seen.add(u.Name);
    const unl = (n: number) => (n < 0 ? Infinity : n);
    const ceiling = host[u.Name]?.hard ?? Infinity;
    const hard = Math.min(unl(u.Hard), ceiling);
    const soft = Math.min(unl(u.Soft), hard);
    out.push({ type: `RLIMIT_${u.Name.toUpperCase()}`, hard, soft });
  }
  return out;
}

const RLIM_INFINITY_TOKEN = '"__berth_rlim_infinity__"';

/** JSON for config.json; RLIM_INFINITY needs the exact uint64 maximum, which a JS number cannot hold. */
export function serializeSpec(spec: OciSpec): string {
  const replacer = (key: string, value: unknown) =>
    (key === 'hard' || key === 'soft') && value === Infinity ? RLIM_INFINITY_TOKEN.slice(1, -1) : value;
  const json = JSON.stringify(spec, replacer, 2);
  return json.split(RLIM_INFINITY_TOKEN).join('18446744073709551615');
}

// ---- security options ----

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** undefined = daemon default, 'unconfined', 'builtin' or a JSON profile. */
  seccomp?: string;
  apparmor?: string;
  labels: string[];
}

/** dockerd's --security-opt parsing, with its error texts. */
export function parseSecurityOpts(opts: string[]): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, labels: [] };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') {
      out.labels.push('disable');
      continue;
    }
    let sep = opt.indexOf('=');
    if (sep < 0) sep = opt.indexOf(':');
    if (sep < 0) throw badRequest(`invalid --security-opt 1: "${opt}"`);
    const key = opt.slice(0, sep);
    const value = opt.slice(sep + 1);
    switch (key) {
      case 'label':
        out.labels.push(value);
        break;
      case 'apparmor':
        out.apparmor = value;
        break;
      case 'seccomp':
        out.seccomp = value;
        break;
      case 'no-new-privileges': {
        const b = parseBool(value);
        if (b === undefined) throw badRequest(`invalid --security-opt 2: "${opt}"`);
        out.noNewPrivileges = b;
        break;
      }
      default:
        throw badRequest(`invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}

function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** assets/seccomp-default.json, found from this module whether it runs from src/ or a build dir. */
function defaultProfilePath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'assets', 'seccomp-default.json');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('assets/seccomp-default.json not found');
    dir = parent;
  }
}

let cachedDefaultProfile: Promise<DockerSeccompProfile> | undefined;

// ---- host facts ----

async function readHostRlimits(): Promise<Record<string, { soft: number; hard: number }>> {
  return parseProcLimits(await readFile('/proc/self/limits', 'utf8'));
}

/** A pure cgroup v2 host has cgroup.controllers at the mount root. */
export function isCgroupV2(): boolean {
  return existsSync('/sys/fs/cgroup/cgroup.controllers');
}

function hasSwapLimit(cgroupV2: boolean): boolean {
  return cgroupV2 ? true : existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
}

// ---- the spec ----

export async function buildSpec(input: SpecInput): Promise<OciSpec> {
  const cfg = input.config;
  const hc = input.hostConfig;
  const privileged = hc.Privileged === true;
  const cgroupV2 = input.host?.cgroupV2 ?? isCgroupV2();

  const user: ResolvedUser = await lookupUser(input.rootfs, cfg.User, hc.GroupAdd ?? []);
  const available = input.host?.capabilities ?? (await hostCapabilities());
  const caps = tweakCapabilities(hc.CapAdd ?? [], hc.CapDrop ?? [], privileged, available);
  const sec = parseSecurityOpts(hc.SecurityOpt ?? []);

  const args = hc.Init ? ['/sbin/docker-init', '--', ...input.args] : [...input.args];
  if (args.length === 0) throw badRequest('No command specified');

  const process: OciProcess = {
    terminal: cfg.Tty === true,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    args,
    env: processEnv(cfg, user.home),
    cwd: cfg.WorkingDir || '/',
    // Like execve for a non-root user: only the bounding set survives.
    capabilities:
      user.uid === 0 ? { bounding: caps, effective: caps, permitted: caps } : { bounding: caps },
    noNewPrivileges: sec.noNewPrivileges,
    oomScoreAdj: hc.OomScoreAdj ?? 0,
  };
  if ((hc.Ulimits ?? []).length > 0) {
    process.rlimits = buildRlimits(hc.Ulimits!, input.hostRlimits ?? (await readHostRlimits()));
  }

  const namespaces: OciNamespace[] = [{ type: 'mount' }];
  const net = hc.NetworkMode ?? '';
  if (net !== 'host') {
    if (net.startsWith('container:') && !input.netnsPath) {
      throw new Error(`network mode ${net} needs the other container's network namespace`);
    }
    namespaces.push(input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' });
  }
  const uts = hc.UTSMode ?? '';
  if (uts !== 'host') namespaces.push({ type: 'uts' });
  const joinable = (type: 'pid' | 'ipc', mode: string, pathIn: string | undefined) => {
    if (mode === 'host') return;
    if (mode.startsWith('container:')) {
      if (!pathIn) throw new Error(`${type} mode ${mode} needs the other container's ${type} namespace`);
      namespaces.push({ type, path: pathIn });
      return;
    }
    namespaces.push({ type });
  };
  joinable('pid', hc.PidMode ?? '', input.namespacePaths?.pid);
  joinable('ipc', hc.IpcMode ?? '', input.namespacePaths?.ipc);
  const cgroupns = hc.CgroupnsMode || (cgroupV2 ? 'private' : 'host');
  if (cgroupns === 'private') namespaces.push({ type: 'cgroup' });

  const sysctl: Record<string, string> = { ...(hc.Sysctls ?? {}) };
  if (cfg.Domainname && uts !== 'host') sysctl['kernel.domainname'] = cfg.Domainname;
  if (net !== 'host' && !net.startsWith('container:')) {
    // dockerd lets container root-less processes bind low ports and ping in their own netns.
    sysctl['net.ipv4.ip_unprivileged_port_start'] ??= '0';
    sysctl['net.ipv4.ping_group_range'] ??= '0 2147483647';
  }

  const linux: OciLinux = {
    namespaces,
    resources: buildResources(hc, input.host?.swapLimit ?? hasSwapLimit(cgroupV2)),
    cgroupsPath: path.posix.join('/', input.cgroupParent || '/', input.id),
  };
  if (Object.keys(sysctl).length > 0) linux.sysctl = sysctl;

  if (privileged) {
    linux.devices = await hostDevices();
    linux.maskedPaths = hc.MaskedPaths ?? [];
    linux.readonlyPaths = hc.ReadonlyPaths ?? [];
  } else {
    // --device nodes with their cgroup rules, then --device-cgroup-rule (dockerd's order).
    const custom = await customDevices(hc.Devices ?? []);
    if (custom.devices.length) linux.devices = custom.devices;
    linux.resources.devices = [...(linux.resources.devices ?? []), ...custom.rules, ...cgroupRules(hc.DeviceCgroupRules ?? [])];
    linux.maskedPaths = hc.MaskedPaths ?? [...DEFAULT_MASKED_PATHS];
    linux.readonlyPaths = hc.ReadonlyPaths ?? [...DEFAULT_READONLY_PATHS];
    const seccomp = await seccompFor(sec.seccomp, input, caps);
    if (seccomp) linux.seccomp = seccomp;
  }

  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process,
    root: { path: input.rootfs, readonly: hc.ReadonlyRootfs === true },
    mounts: assembleMounts(input),
    linux,
  };
  if (uts !== 'host' && cfg.Hostname) spec.hostname = cfg.Hostname;
  return spec;
}

async function seccompFor(opt: string | undefined, input: SpecInput, caps: string[]): Promise<OciSeccomp | undefined> {
  if (opt === 'unconfined') return undefined;
  let profile: DockerSeccompProfile;
  if (opt === undefined || opt === '' || opt === 'builtin') {
    if (input.seccompProfile && opt !== 'builtin') profile = input.seccompProfile;
    else profile = await (cachedDefaultProfile ??= loadDefaultProfile(defaultProfilePath()));
  } else {
    try {
      profile = parseProfile(opt);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
  }
  try {
    return seccompFromProfile(profile, caps, input.host?.arch ?? goArch(), { kernel: input.host?.kernel });
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}
