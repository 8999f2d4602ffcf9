import type { Writable } from 'node:stream';
import type { ContainerService } from './container-service.js';
import { sampleCgroup, type Sample } from '../system/cgroup-stats.js';
import { ZERO_TIME } from '../stores/container-store.js';

const INTERVAL_MS = 1000;

/** `GET /containers/{id}/stats`: cgroup samples in dockerd's JSON shape, one a second when streaming. */
export class StatsService {
  constructor(private containers: ContainerService) {}

  /** The container's ID; throws dockerd's 404 before any response is started. */
  resolve(ref: string): string {
    return this.containers.get(ref).id;
  }

  private running(id: string): number | undefined {
    const c = this.containers.get(id);
    return c.status === 'running' || c.status === 'paused' ? c.rec.state.Pid || undefined : undefined;
  }

  /** What dockerd sends for a container that is not running. */
  private empty(id: string): Record<string, unknown> {
    const c = this.containers.get(id);
    const cpu = { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
    const blk = Object.fromEntries(
      ['io_service_bytes_recursive', 'io_serviced_recursive', 'io_queue_recursive', 'io_service_time_recursive', 'io_wait_time_recursive', 'io_merged_recursive', 'io_time_recursive', 'sectors_recursive'].map((k) => [k, null]),
    );
    return { read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: blk, num_procs: 0, storage_stats: {}, cpu_stats: cpu, precpu_stats: cpu, memory_stats: {}, name: c.rec.name, id: c.id };
  }

  private async sample(id: string): Promise<Sample | undefined> {
    const pid = this.running(id);
    if (!pid) return undefined;
    return sampleCgroup(pid).catch(() => undefined);
  }

  private shape(id: string, cur: Sample, prev: Sample | undefined): Record<string, unknown> {
    const c = this.containers.get(id);
    const zeroCpu = { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
    const out: Record<string, unknown> = {
      read: cur.read,
      preread: prev?.read ?? ZERO_TIME,
      pids_stats: cur.pids_stats,
      blkio_stats: cur.blkio_stats,
      num_procs: 0,
      storage_stats: {},
      cpu_stats: cur.cpu_stats,
      precpu_stats: prev?.cpu_stats ?? zeroCpu,
      memory_stats: cur.memory_stats,
      name: c.rec.name,
      id: c.id,
    };
    if (cur.networks) out.networks = cur.networks;
    return out;
  }

  async stats(ref: string, o: { stream: boolean; oneShot: boolean }, out: Writable): Promise<void> {
    const id = this.containers.get(ref).id;
    const write = (v: unknown) => out.write(JSON.stringify(v) + '\n');
    if (!o.stream) {
      const first = await this.sample(id);
      if (!first) return void write(this.empty(id));
      if (o.oneShot) return void write(this.shape(id, first, undefined));
      // Without one-shot dockerd waits for a second sample, so CPU % has a delta.
      await sleep(INTERVAL_MS);
      const second = await this.sample(id);
      write(second ? this.shape(id, second, first) : this.empty(id));
      return;
    }
    let closed = false;
    out.once('close', () => (closed = true));
    let prev: Sample | undefined;
    while (!closed && this.containers.has(id)) {
      const cur = await this.sample(id);
      write(cur ? this.shape(id, cur, prev) : this.empty(id));
      prev = cur;
      await sleep(INTERVAL_MS);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
