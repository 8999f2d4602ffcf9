import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
// /proc/stat counts in USER_HZ ticks; Linux fixes USER_HZ at 100 for user space.
const NS_PER_TICK = 10_000_000;

/** Controller → cgroup path of a process, from /proc/<pid>/cgroup (v1 lines; the v2 line is keyed ""). */
export async function processCgroups(pid: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const text = await fsp.readFile(`/proc/${pid}/cgroup`, 'utf8');
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const ctrl of m[1]!.split(',')) out.set(ctrl.replace(/^name=/, ''), m[2]!);
  }
  return out;
}

async function readText(file: string): Promise<string | undefined> {
  return fsp.readFile(file, 'utf8').catch(() => undefined);
}

async function readNum(file: string): Promise<number | undefined> {
  const t = await readText(file);
  if (t === undefined) return undefined;
  const n = Number(t.trim());
  return Number.isFinite(n) ? n : undefined;
}

function keyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

function blkioEntries(text: string | undefined): Array<{ major: number; minor: number; op: string; value: number }> {
  const out: Array<{ major: number; minor: number; op: string; value: number }> = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

/** Host CPU time in nanoseconds, as dockerd's system_cpu_usage. */
export async function systemCpuUsage(): Promise<number> {
  const text = await fsp.readFile('/proc/stat', 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((a, b) => a + Number(b), 0);
  return ticks * NS_PER_TICK;
}

/** Interfaces of the process's network namespace other than loopback (what dockerd lists under `networks`). */
async function networkStats(pid: number): Promise<Record<string, Record<string, number>> | undefined> {
  const text = await readText(`/proc/${pid}/net/dev`);
  if (!text) return undefined;
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === 'lo') continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out[name] = { rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!, tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]! };
  }
  return Object.keys(out).length ? out : undefined;
}

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface Sample {
  read: string;
  pids_stats: Record<string, number>;
  blkio_stats: Record<string, unknown[] | null>;
  cpu_stats: CpuStats;
  memory_stats: Record<string, unknown>;
  networks?: Record<string, Record<string, number>>;
}

const BLKIO_KEYS: Array<[string, string]> = [
  ['io_service_bytes_recursive', 'blkio.throttle.io_service_bytes_recursive'],
  ['io_serviced_recursive', 'blkio.throttle.io_serviced_recursive'],
  ['io_queue_recursive', 'blkio.io_queued_recursive'],
  ['io_service_time_recursive', 'blkio.io_service_time_recursive'],
  ['io_wait_time_recursive', 'blkio.io_wait_time_recursive'],
  ['io_merged_recursive', 'blkio.io_merged_recursive'],
  ['io_time_recursive', 'blkio.time_recursive'],
  ['sectors_recursive', 'blkio.sectors_recursive'],
];

/** One stats sample of a running container's cgroup (v1 controllers), in dockerd's JSON shape. */
export async function sampleCgroup(pid: number): Promise<Sample> {
  const cg = await processCgroups(pid);
  const dir = (ctrl: string) => path.join(CGROUP_ROOT, ctrl, cg.get(ctrl) ?? '/');
  const cpuacct = dir('cpuacct');
  const mem = dir('memory');
  const [usage, percpu, cpuStat, throttle, system] = await Promise.all([
    readNum(path.join(cpuacct, 'cpuacct.usage')),
    readText(path.join(cpuacct, 'cpuacct.usage_percpu')),
    readText(path.join(cpuacct, 'cpuacct.stat')),
    readText(path.join(dir('cpu'), 'cpu.stat')),
    systemCpuUsage(),
  ]);
  const ticks = keyValues(cpuStat);
  const thr = keyValues(throttle);
  const cpu_stats: CpuStats = {
    cpu_usage: {
      total_usage: usage ?? 0,
      percpu_usage: (percpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number),
      usage_in_kernelmode: (ticks.system ?? 0) * NS_PER_TICK,
      usage_in_usermode: (ticks.user ?? 0) * NS_PER_TICK,
    },
    system_cpu_usage: system,
    online_cpus: os.cpus().length,
    throttling_data: { periods: thr.nr_periods ?? 0, throttled_periods: thr.nr_throttled ?? 0, throttled_time: thr.throttled_time ?? 0 },
  };
  const [memUsage, memMax, memLimit, memStat] = await Promise.all([
    readNum(path.join(mem, 'memory.usage_in_bytes')),
    readNum(path.join(mem, 'memory.max_usage_in_bytes')),
    readNum(path.join(mem, 'memory.limit_in_bytes')),
    readText(path.join(mem, 'memory.stat')),
  ]);
  const stats = keyValues(memStat);
  const sortedStats = Object.fromEntries(Object.keys(stats).sort().map((k) => [k, stats[k]!]));
  const memory_stats: Record<string, unknown> = {
    usage: memUsage ?? 0,
    max_usage: memMax ?? 0,
    stats: sortedStats,
    // As dockerd: an unlimited cgroup reports the machine's memory.
    limit: Math.min(memLimit ?? Infinity, os.totalmem()),
  };
  const pidsDir = dir('pids');
  const pidsCurrent = await readNum(path.join(pidsDir, 'pids.current'));
  const pidsLimit = await readNum(path.join(pidsDir, 'pids.max'));
  const pids_stats: Record<string, number> = {};
  if (pidsCurrent !== undefined) pids_stats.current = pidsCurrent;
  if (pidsLimit !== undefined) pids_stats.limit = pidsLimit;
  const blkio_stats: Record<string, unknown[]> = {};
  for (const [key, file] of BLKIO_KEYS) blkio_stats[key] = blkioEntries(await readText(path.join(dir('blkio'), file)));
  const networks = await networkStats(pid);
  return { read: new Date().toISOString(), pids_stats, blkio_stats, cpu_stats, memory_stats, ...(networks ? { networks } : {}) };
}

/**
 * Whether the kernel OOM-killed a process of the cgroup at `cgroupPath`
 * (the OCI spec's cgroupsPath); read before the runtime deletes the cgroup.
 */
export async function cgroupOomKilled(cgroupPath: string): Promise<boolean> {
  for (const file of [path.join(CGROUP_ROOT, 'memory', cgroupPath, 'memory.oom_control'), path.join(CGROUP_ROOT, cgroupPath, 'memory.events')]) {
    const kv = keyValues(await readText(file));
    if (kv.oom_kill !== undefined) return kv.oom_kill > 0;
  }
  return false;
}
