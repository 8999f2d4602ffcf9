import { existsSync } from 'node:fs';
import { ApiError, badRequest, errorMessage, serverError } from '../errors.js';
import type { ContainerService } from './container-service.js';
import type { Runtime } from '../system/runtime.js';
import { buildResources, isCgroupV2 } from '../system/oci-spec.js';
import { validateHostConfig, type HostConfig } from '../system/container-config.js';

/** The resources `docker update` may change, as the API body names them. */
export interface UpdateBody {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  BlkioWeight?: number;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
}

function swapLimitSupported(): boolean {
  return isCgroupV2() || existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
}

/** `POST /containers/{id}/update`: moby's merge rules, applied live with `runc update`, then persisted. */
export class UpdateService {
  constructor(
    private containers: ContainerService,
    private runtime: Runtime,
  ) {}

  async update(ref: string, body: UpdateBody): Promise<{ Warnings: string[] }> {
    const c = this.containers.get(ref);
    const id = c.id;
    const fail = (msg: string) => badRequest(`Cannot update container ${id}: ${msg}`);
    return this.containers.withLock(id, async () => {
      const cur = c.rec.hostConfig;
      const next: HostConfig = structuredClone(cur);
      const b = body ?? {};
      if (b.RestartPolicy?.Name && cur.AutoRemove && b.RestartPolicy.Name !== 'no') {
        throw badRequest('Restart policy cannot be updated because AutoRemove is enabled for the container');
      }
      if (b.NanoCpus && ((cur.CpuPeriod ?? 0) > 0 || (cur.CpuQuota ?? 0) > 0) && !b.CpuPeriod && !b.CpuQuota) {
        throw fail(('Conflicting options: Nano CPUs cannot be updated as CPU Period or CPU Quota has already been set'));
      }
      if ((b.CpuPeriod || b.CpuQuota) && (cur.NanoCpus ?? 0) > 0 && !b.NanoCpus) {
        throw fail(('Conflicting options: CPU Quota and CPU Period cannot be updated as NanoCPUs has already been set'));
      }
      if (b.BlkioWeight) (next as HostConfig & { BlkioWeight?: number }).BlkioWeight = b.BlkioWeight;
      if (b.CpuShares) next.CpuShares = b.CpuShares;
      if (b.CpuPeriod) next.CpuPeriod = b.CpuPeriod;
      if (b.CpuQuota) next.CpuQuota = b.CpuQuota;
      if (b.NanoCpus) next.NanoCpus = b.NanoCpus;
      if (b.CpusetCpus) next.CpusetCpus = b.CpusetCpus;
      if (b.CpusetMems) next.CpusetMems = b.CpusetMems;
      if (b.Memory) {
        // Memory alone may not go above a swap limit already set.
        if ((cur.MemorySwap ?? 0) > 0 && b.Memory > cur.MemorySwap! && !b.MemorySwap) {
          throw fail(('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time'));
        }
        next.Memory = b.Memory;
      }
      if (b.MemorySwap) next.MemorySwap = b.MemorySwap;
      if (b.MemoryReservation) next.MemoryReservation = b.MemoryReservation;
      if (b.PidsLimit !== undefined && b.PidsLimit !== null) next.PidsLimit = b.PidsLimit > 0 ? b.PidsLimit : 0;
      if (b.RestartPolicy?.Name) next.RestartPolicy = { Name: b.RestartPolicy.Name, MaximumRetryCount: b.RestartPolicy.MaximumRetryCount ?? 0 };
      try {
        validateHostConfig(next);
      } catch (e) {
        throw e instanceof ApiError ? e : badRequest(errorMessage(e));
      }
      if (c.status === 'running' || c.status === 'paused') {
        const { devices: _d, ...resources } = buildResources(next, swapLimitSupported());
        if (b.PidsLimit !== undefined && b.PidsLimit !== null && b.PidsLimit <= 0) resources.pids = { limit: -1 };
        try {
          await this.runtime.run(['update', '--resources', '-', id], JSON.stringify(resources));
        } catch (e) {
          throw serverError(`Cannot update container ${id}: ${errorMessage(e)}: unknown`);
        }
      }
      c.rec.hostConfig = next;
      await this.containers.saveRecord(id);
      this.containers.emitContainerEvent(id, 'update');
      return { Warnings: [] };
    });
  }
}
