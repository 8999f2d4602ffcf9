// docker stats: the numbers docker's CLI derives from a stats sample, and its row context.
import { RowContext } from './context.js';
import { truncateID } from './display.js';
import { bytesSize, humanSizeWithPrecision } from '../../common/units.js';
import { GO_TYPE } from '../../common/gotemplate/values.js';

export const DEFAULT_STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

export const STATS_HEADER: Record<string, string> = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

export interface StatsEntry {
  container: string;
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
}

/** docker's calculations from one API sample (Linux rules, cgroup v1 and v2). */
export function statsEntry(container: string, s: any): StatsEntry {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const online = cpu.online_cpus || (cpu.cpu_usage?.percpu_usage ?? []).length;
  const cpuPercentage = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const mem = s.memory_stats ?? {};
  const usage: number = mem.usage ?? 0;
  const st = mem.stats ?? {};
  let memory = usage;
  if (st.total_inactive_file !== undefined && st.total_inactive_file < usage) memory = usage - st.total_inactive_file;
  else if (st.inactive_file !== undefined && st.inactive_file < usage) memory = usage - st.inactive_file;
  const limit: number = mem.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values<any>(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = String(e.op ?? '').toLowerCase();
    if (op === 'read') read += e.value ?? 0;
    else if (op === 'write') write += e.value ?? 0;
  }
  return {
    container,
    name: String(s.name ?? '').replace(/^\//, ''),
    id: String(s.id ?? ''),
    cpuPercentage,
    memory,
    memoryLimit: limit,
    memoryPercentage: limit ? (memory / limit) * 100 : 0,
    networkRx: rx,
    networkTx: tx,
    blockRead: read,
    blockWrite: write,
    pidsCurrent: s.pids_stats?.current ?? 0,
  };
}

export class StatsContext extends RowContext {
  static readonly [GO_TYPE] = '*formatter.statsContext';
  constructor(private readonly s: StatsEntry, private readonly trunc: boolean) {
    super();
  }
  Container(): string {
    return this.s.container;
  }
  Name(): string {
    return this.s.name || '--';
  }
  ID(): string {
    return this.trunc ? truncateID(this.s.id) : this.s.id;
  }
  CPUPerc(): string {
    return `${this.s.cpuPercentage.toFixed(2)}%`;
  }
  MemUsage(): string {
    return `${bytesSize(this.s.memory)} / ${bytesSize(this.s.memoryLimit)}`;
  }
  MemPerc(): string {
    return `${this.s.memoryPercentage.toFixed(2)}%`;
  }
  NetIO(): string {
    return `${humanSizeWithPrecision(this.s.networkRx, 3)} / ${humanSizeWithPrecision(this.s.networkTx, 3)}`;
  }
  BlockIO(): string {
    return `${humanSizeWithPrecision(this.s.blockRead, 3)} / ${humanSizeWithPrecision(this.s.blockWrite, 3)}`;
  }
  PIDs(): string {
    return String(this.s.pidsCurrent);
  }
}
