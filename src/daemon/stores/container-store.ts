import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import type { MountPointRecord } from './volume-store.js';
import type { ContainerConfig, HostConfig } from '../system/container-config.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  OOMKilled: boolean;
  /** Present once a health check ran (dockerd keeps it in the container's state, also across restarts). */
  Health?: HealthState;
}

/** Engine API State.Health. */
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  /** The last results, oldest first. */
  Log: HealthResult[];
}

export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** What berthd persists per container (its config.v2.json). */
export interface ContainerRecord {
  id: string;
  /** With the leading slash, as dockerd stores it. */
  name: string;
  created: string;
  /** The image as the user named it (Config.Image). */
  image: string;
  imageId: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  path: string;
  args: string[];
  restartCount: number;
  hasBeenStartedBefore: boolean;
  hasBeenManuallyStopped: boolean;
  conmonPid: number;
  runtime: string;
  logPath: string;
  /** Short key naming conmon's attach-socket directory. */
  socketKey: string;
  /** Binds, volumes and tmpfs mounts resolved at create (undefined for records from before volumes). */
  mountPoints?: MountPointRecord[];
  /** Networks the container is attached to (by name) with its endpoint settings (NetworkingConfig.EndpointsConfig, connect). */
  endpointsConfig?: Record<string, EndpointConfig>;
}

/** Engine API EndpointSettings, the part a user configures. */
export interface EndpointConfig {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
  NetworkID?: string;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * Container records on disk: `<dir>/<id>/config.json`, written atomically so
 * a crash mid-write leaves the previous version, never a torn file.
 */
export class ContainerStore {
  constructor(private dir: string) {}

  containerDir(id: string): string {
    return path.join(this.dir, id);
  }

  async loadAll(): Promise<ContainerRecord[]> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    const out: ContainerRecord[] = [];
    for (const id of await fs.promises.readdir(this.dir)) {
      const file = path.join(this.dir, id, 'config.json');
      let text: string;
      try {
        text = await fs.promises.readFile(file, 'utf8');
      } catch {
        continue; // a directory without a record is a create that never completed
      }
      out.push(JSON.parse(text) as ContainerRecord);
    }
    return out;
  }

  async save(rec: ContainerRecord): Promise<void> {
    const dir = this.containerDir(rec.id);
    await fs.promises.mkdir(dir, { recursive: true });
    await writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(rec));
  }

  async remove(id: string): Promise<void> {
    await fs.promises.rm(this.containerDir(id), { recursive: true, force: true });
  }
}
