/**
 * The Docker Engine API's container configuration (ContainerConfig, the part
 * of HostConfig the engine acts on) and the image config it is merged with,
 * plus dockerd's create-time merge and validation rules.
 */
import { availableParallelism } from 'node:os';
import { badRequest } from '../errors.js';
import { cgroupRules, type DeviceMapping } from './devices.js';

export interface HealthConfig {
  Test?: string[] | null;
  /** Nanoseconds; 0 means inherit. */
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig | null;
  ArgsEscaped?: boolean | null;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string | null;
  StopTimeout?: number | null;
  Shell?: string[] | null;
}

export interface RestartPolicy {
  Name?: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure' | string;
  MaximumRetryCount?: number;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface LogConfig {
  Type?: string;
  Config?: Record<string, string> | null;
}

export interface HostConfig {
  Binds?: string[] | null;
  NetworkMode?: string;
  RestartPolicy?: RestartPolicy | null;
  AutoRemove?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  /** 'private' or 'host'; empty → daemon default (private only on pure cgroup v2). */
  CgroupnsMode?: string;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  /** Destination → comma-separated tmpfs options. */
  Tmpfs?: Record<string, string> | null;
  UTSMode?: string;
  /** Bytes; 0 → 64 MiB. */
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  Init?: boolean | null;
  CpuShares?: number;
  Memory?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  NanoCpus?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  OomKillDisable?: boolean | null;
  CgroupParent?: string;
  LogConfig?: LogConfig | null;
  Devices?: DeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
}

/** The `config` section of an OCI / Docker image config. */
export interface ImageConfig {
  User?: string;
  ExposedPorts?: Record<string, object> | null;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: HealthConfig | null;
  Shell?: string[] | null;
  OnBuild?: string[] | null;
  ArgsEscaped?: boolean;
}

const envKey = (kv: string) => {
  const i = kv.indexOf('=');
  return i < 0 ? kv : kv.slice(0, i);
};

/**
 * Fill what the container config leaves unset from the image config, the way
 * dockerd does at create time. Returns a new object; inputs are untouched.
 */
export function mergeImageConfig(cfg: ContainerConfig, img: ImageConfig): ContainerConfig {
  const out: ContainerConfig = structuredClone(cfg);
  const image: ImageConfig = structuredClone(img ?? {});

  if (!out.User) out.User = image.User ?? '';

  const userPorts = out.ExposedPorts ?? {};
  if (Object.keys(userPorts).length === 0) out.ExposedPorts = image.ExposedPorts ?? out.ExposedPorts;
  else out.ExposedPorts = { ...(image.ExposedPorts ?? {}), ...userPorts };

  if (!out.Env || out.Env.length === 0) {
    out.Env = image.Env ?? out.Env;
  } else {
    const userKeys = new Set(out.Env.map(envKey));
    for (const e of image.Env ?? []) if (!userKeys.has(envKey(e))) out.Env.push(e);
  }

  out.Labels = { ...(image.Labels ?? {}), ...(out.Labels ?? {}) };

  // An explicitly empty Entrypoint (`[]`, as opposed to null) resets the
  // image's entrypoint; Cmd only travels with the image's entrypoint when the
  // user gave neither.
  if (!out.Entrypoint || out.Entrypoint.length === 0) {
    if (!out.Cmd || out.Cmd.length === 0) {
      out.Cmd = image.Cmd ?? out.Cmd;
      out.ArgsEscaped = image.ArgsEscaped ?? out.ArgsEscaped;
    }
    if (out.Entrypoint == null) out.Entrypoint = image.Entrypoint ?? out.Entrypoint;
  }

  if (image.Healthcheck) {
    if (!out.Healthcheck) {
      out.Healthcheck = image.Healthcheck;
    } else {
      const u = out.Healthcheck;
      const i = image.Healthcheck;
      if (!u.Test || u.Test.length === 0) u.Test = i.Test;
      if (!u.Interval) u.Interval = i.Interval;
      if (!u.Timeout) u.Timeout = i.Timeout;
      if (!u.StartPeriod) u.StartPeriod = i.StartPeriod;
      if (!u.StartInterval) u.StartInterval = i.StartInterval;
      if (!u.Retries) u.Retries = i.Retries;
    }
  }

  if (!out.WorkingDir) out.WorkingDir = image.WorkingDir ?? '';

  const userVolumes = out.Volumes ?? {};
  if (Object.keys(userVolumes).length === 0) out.Volumes = image.Volumes ?? out.Volumes;
  else out.Volumes = { ...userVolumes, ...(image.Volumes ?? {}) };

  if (!out.StopSignal) out.StopSignal = image.StopSignal ?? out.StopSignal;
  if (!out.Shell || out.Shell.length === 0) out.Shell = image.Shell ?? out.Shell;
  return out;
}

/** Smallest memory limit dockerd accepts (6 MiB). */
export const MIN_MEMORY = 6 * 1024 * 1024;

const MIN_HEALTH_DURATION = 1_000_000; // 1ms in ns

/** Checks dockerd makes on Config at create; throws a 400 ApiError with dockerd's text. */
export function validateConfig(cfg: ContainerConfig): void {
  if (cfg.WorkingDir && !cfg.WorkingDir.startsWith('/')) {
    throw badRequest(`the working directory '${cfg.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  const hc = cfg.Healthcheck;
  if (hc) {
    const durations: [keyof HealthConfig, string][] = [
      ['Interval', 'Interval'],
      ['Timeout', 'Timeout'],
      ['StartPeriod', 'StartPeriod'],
      ['StartInterval', 'StartInterval'],
    ];
    for (const [k, label] of durations) {
      const v = hc[k] as number | undefined;
      if (v && v !== 0 && v < MIN_HEALTH_DURATION) {
        throw badRequest(`${label} in Healthcheck cannot be less than 1ms`);
      }
    }
    if ((hc.Retries ?? 0) < 0) throw badRequest('Retries in Healthcheck cannot be negative');
  }
  if (cfg.StopTimeout != null && cfg.StopTimeout < -1) {
    throw badRequest(`invalid stop timeout: ${cfg.StopTimeout}`);
  }
}

function validateRestartPolicy(p: RestartPolicy): void {
  const name = p.Name ?? '';
  const retries = p.MaximumRetryCount ?? 0;
  switch (name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (retries !== 0) {
        let msg = "invalid restart policy: maximum retry count can only be used with 'on-failure'";
        if (retries < 0) msg += ' and cannot be negative';
        throw badRequest(msg);
      }
      return;
    case 'on-failure':
      if (retries < 0) throw badRequest('invalid restart policy: maximum retry count cannot be negative');
      return;
    case '':
      return;
    default:
      throw badRequest(
        `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
      );
  }
}

/** Parse a cpuset list ("0-2,4"); undefined when malformed. */
export function parseCpuset(s: string): number[] | undefined {
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

const ULIMIT_NAMES = new Set([
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice',
  'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
]);

const validNsMode = (mode: string | undefined, allowed: string[], allowContainer: boolean) =>
  !mode || allowed.includes(mode) || (allowContainer && /^container:.+/.test(mode));

/**
 * Checks dockerd makes on HostConfig at create; throws a 400 ApiError with
 * dockerd's text. `numCpus` defaults to the CPUs this process may run on.
 */
export function validateHostConfig(hc: HostConfig, numCpus: number = availableParallelism()): void {
  const mem = hc.Memory ?? 0;
  const swap = hc.MemorySwap ?? 0;
  const reservation = hc.MemoryReservation ?? 0;
  if (mem < 0) throw badRequest('invalid memory limit: must be a positive value');
  if (mem !== 0 && mem < MIN_MEMORY) throw badRequest('Minimum memory limit allowed is 6MB');
  if (mem > 0 && swap > 0 && swap < mem) {
    throw badRequest('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (mem === 0 && swap > 0) {
    throw badRequest('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  const swappiness = hc.MemorySwappiness;
  if (swappiness != null && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw badRequest(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (reservation > 0 && reservation < MIN_MEMORY) throw badRequest('Minimum memory reservation allowed is 6MB');
  if (mem > 0 && reservation > 0 && mem < reservation) {
    throw badRequest('Minimum memory limit can not be less than memory reservation limit, see usage');
  }

  const nano = hc.NanoCpus ?? 0;
  const period = hc.CpuPeriod ?? 0;
  const quota = hc.CpuQuota ?? 0;
  if (nano > 0 && period > 0) throw badRequest('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0) throw badRequest('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano < 0 || nano > numCpus * 1e9) {
    throw badRequest(`Range of CPUs is from 0.01 to ${numCpus}.00, as there are only ${numCpus} CPUs available`);
  }
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw badRequest('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (quota > 0 && quota < 1000) throw badRequest('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if ((hc.CpuShares ?? 0) < 0) throw badRequest('invalid CPU shares: must be a positive value');

  if (hc.CpusetCpus) {
    const cpus = parseCpuset(hc.CpusetCpus);
    if (!cpus) throw badRequest(`Invalid value ${hc.CpusetCpus} for cpuset cpus`);
    if (cpus.some((c) => c >= numCpus)) {
      const available = numCpus === 1 ? '0' : `0-${numCpus - 1}`;
      throw badRequest(`Requested CPUs are not available - requested ${hc.CpusetCpus}, available: ${available}`);
    }
  }
  if (hc.CpusetMems && !parseCpuset(hc.CpusetMems)) {
    throw badRequest(`Invalid value ${hc.CpusetMems} for cpuset mems`);
  }

  if ((hc.ShmSize ?? 0) < 0) throw badRequest('SHM size can not be less than 0');
  const oom = hc.OomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) throw badRequest(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);

  if (!validNsMode(hc.IpcMode, ['private', 'shareable', 'host', 'none'], true)) {
    throw badRequest(`invalid IPC mode: ${hc.IpcMode}`);
  }
  if (!validNsMode(hc.PidMode, ['host'], true)) throw badRequest(`invalid PID mode: ${hc.PidMode}`);
  if (!validNsMode(hc.UTSMode, ['host'], false)) throw badRequest(`invalid UTS mode: ${hc.UTSMode}`);
  try {
    cgroupRules(hc.DeviceCgroupRules ?? []);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  if (hc.CgroupnsMode && !['private', 'host'].includes(hc.CgroupnsMode)) {
    throw badRequest(`invalid cgroup namespace mode: ${hc.CgroupnsMode}`);
  }

  for (const u of hc.Ulimits ?? []) {
    if (!ULIMIT_NAMES.has(u.Name)) throw badRequest(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard && u.Hard !== -1) {
      throw badRequest(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    }
  }

  if (hc.RestartPolicy) validateRestartPolicy(hc.RestartPolicy);
  const policy = hc.RestartPolicy?.Name ?? '';
  if (hc.AutoRemove && policy !== '' && policy !== 'no') {
    throw badRequest("can't create 'AutoRemove' container with restart policy");
  }
}
