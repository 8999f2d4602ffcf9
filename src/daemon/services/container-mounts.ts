// The volume side of a container's life: at create the mount points are
// resolved and their volumes made; at start volumes are mounted (device ones),
// filled from the image once (copy-up) and turned into OCI mounts; at exit
// they are released; at `rm -v` anonymous ones go. Also what inspect shows
// and what `cp` needs for a stopped container.
import fs from 'node:fs';
import { badRequest, errorMessage } from '../errors.js';
import type { MountPointRecord } from '../stores/volume-store.js';
import { mergeTmpfsOptions, type OciMount } from '../system/oci-spec.js';
import { copyUp } from '../system/copy-up.js';
import { bindInRoot } from '../system/bind-in-root.js';
import { unmount } from '../system/overlay-mount.js';
import { ensureShared, ensureSharedOrSlave } from '../system/mount-propagation.js';
import { mountSubpath, releaseSubpath } from '../system/subpath-mount.js';
import path from 'node:path';
import { planMounts, tmpfsData, SKIP_IMAGE_VOLUMES, type MountInputs } from './mount-spec.js';
import type { VolumeService } from './volume-service.js';

export { SKIP_IMAGE_VOLUMES };

export interface CreateMountsInput {
  hostConfig: MountInputs & Record<string, unknown>;
  /** Config.Volumes after the image merge. */
  volumes: Record<string, object> | null | undefined;
  /** Config.Volumes as the request gave it (not the image's). */
  requestVolumes: Record<string, object> | null | undefined;
  volumesFrom: (ref: string) => MountPointRecord[];
}

/**
 * Read-only binds are read-only all the way down (runc's `rro`, as docker 25+
 * does on kernels from 5.12), unless asked otherwise.
 */
function readOnly(p: MountPointRecord): string[] {
  if (p.RW) return [];
  return [p.ReadOnlyNonRecursive ? 'ro' : 'rro'];
}

export class ContainerMounts {
  constructor(
    private volumes: VolumeService,
    private log: (level: string, msg: string) => void,
    /** Where subpath staging binds go (`<subpathsDir>/<container>/<index>`). */
    private subpathsDir: string,
  ) {}

  private staging(id: string, index: number): string {
    return path.join(this.subpathsDir, id, String(index));
  }

  private async releaseSubpaths(id: string, points: MountPointRecord[]): Promise<void> {
    for (const [i, p] of points.entries()) {
      if (p.Subpath) await releaseSubpath(this.staging(id, i)).catch((e) => this.log('warn', `release subpath mount ${p.Name}/${p.Subpath}: ${errorMessage(e)}`));
    }
    await fs.promises.rmdir(path.join(this.subpathsDir, id)).catch(() => undefined);
  }

  /**
   * Validates every mount (nothing is written when that fails), then creates
   * the volumes it needs, reserved (not removable) until `done` once the
   * container's record is in place, or `rollback`, which also removes the
   * volumes this call created, for a create that fails later.
   */
  async prepare(input: CreateMountsInput): Promise<{ points: MountPointRecord[]; rollback: () => Promise<void>; done: () => void }> {
    const requested = new Set(Object.keys(input.requestVolumes ?? {}));
    const plan = planMounts({
      hostConfig: input.hostConfig,
      volumes: input.volumes,
      imageOnlyVolumes: new Set(Object.keys(input.volumes ?? {}).filter((v) => !requested.has(v))),
      skipImageVolumes: input.hostConfig[SKIP_IMAGE_VOLUMES] === true,
      volumesFrom: input.volumesFrom,
      exists: (p) => fs.existsSync(p),
    });
    const { names, created } = await this.volumes.ensure(plan.volumes.map((v) => ({ name: v.name, opts: v.opts, anonymous: v.anonymous })));
    plan.volumes.forEach((v, i) => {
      const p = plan.points[v.index]!;
      p.Name = names[i]!;
      p.Source = this.volumes.mountpoint(p.Name);
    });
    return {
      points: plan.points,
      rollback: async () => {
        this.volumes.unreserve(names);
        for (const n of created) await this.volumes.removeIfUnused(n, '').catch(() => undefined);
      },
      // The container's record references them now.
      done: () => this.volumes.unreserve(names),
    };
  }

  /**
   * Mounts for the OCI spec of a starting container whose root is mounted at
   * `rootfs`. `release` undoes the volume mounts (start failed, or the container exited).
   */
  async start(id: string, points: MountPointRecord[], rootfs: string): Promise<{ mounts: OciMount[]; rootfsPropagation?: string; release: () => Promise<void> }> {
    const mounts: OciMount[] = [];
    let rootfsPropagation: string | undefined;
    const used: string[] = [];
    const release = async () => {
      await this.releaseSubpaths(id, points);
      for (const n of used.splice(0).reverse()) await this.volumes.release(n, id).catch((e) => this.log('warn', `release volume ${n}: ${errorMessage(e)}`));
    };
    try {
      for (const [index, p] of points.entries()) {
        if (p.Type === 'bind') {
          if (!fs.existsSync(p.Source)) {
            if (!p.CreateSource) throw badRequest(`invalid mount config for type "bind": bind source path does not exist: ${p.Source}`);
            // docker's -v makes a missing host directory.
            await fs.promises.mkdir(p.Source, { recursive: true, mode: 0o755 });
          }
          const options = [p.NonRecursive ? 'bind' : 'rbind', ...readOnly(p), ...(p.Propagation ? [p.Propagation] : [])];
          // Propagation reaches the container only through a root that propagates too (dockerd's rules).
          try {
            if (p.Propagation === 'shared' || p.Propagation === 'rshared') {
              ensureShared(p.Source);
              rootfsPropagation = 'shared';
            } else if (p.Propagation === 'slave' || p.Propagation === 'rslave') {
              ensureSharedOrSlave(p.Source);
              rootfsPropagation ??= 'rslave';
            }
          } catch (e) {
            throw badRequest(errorMessage(e));
          }
          mounts.push({ destination: p.Destination, type: 'bind', source: p.Source, options });
        } else if (p.Type === 'volume') {
          const data = await this.volumes.mount(p.Name!, id, { destination: p.Destination, rw: p.RW, propagation: p.Propagation });
          used.push(p.Name!);
          if (p.CopyData) await copyUp(rootfs, p.Destination, data, (m) => this.log('debug', `copy-up ${p.Name}: ${m}`));
          let source = data;
          if (p.Subpath) {
            source = this.staging(id, index);
            await releaseSubpath(source); // left over from a crash
            try {
              await mountSubpath(data, p.Subpath, source);
            } catch (e) {
              throw badRequest(`error mounting subpath ${p.Subpath} of volume ${p.Name}: ${errorMessage(e)}`);
            }
          }
          mounts.push({ destination: p.Destination, type: 'bind', source, options: ['rbind', ...readOnly(p)] });
        } else {
          const data = tmpfsData(p.TmpfsSize, p.TmpfsMode, !p.RW);
          const options = mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...(data ? data.split(',') : [])]);
          mounts.push({ destination: p.Destination, type: 'tmpfs', source: 'tmpfs', options });
        }
      }
    } catch (e) {
      await release();
      throw e;
    }
    return { mounts, rootfsPropagation, release };
  }

  /** The container's processes are gone: its volumes are released (device ones unmounted by their last user). */
  async stop(id: string, points: MountPointRecord[] | undefined): Promise<void> {
    await this.releaseSubpaths(id, points ?? []);
    for (const p of points ?? []) {
      if (p.Type === 'volume' && p.Name) await this.volumes.release(p.Name, id).catch((e) => this.log('warn', `release volume ${p.Name}: ${errorMessage(e)}`));
    }
  }

  /** After the container is gone: with `rm -v`, its anonymous volumes no other container uses. */
  async remove(id: string, points: MountPointRecord[] | undefined, removeAnonymous: boolean): Promise<void> {
    if (!removeAnonymous) return;
    for (const p of points ?? []) {
      if (p.Type === 'volume' && p.Anonymous && p.Name) {
        await this.volumes.removeIfUnused(p.Name, id).catch((e) => this.log('warn', `remove volume ${p.Name}: ${errorMessage(e)}`));
      }
    }
  }

  /** `Mounts` of inspect and ps, as dockerd fills them. */
  static toApi(points: MountPointRecord[] | undefined): Array<Record<string, unknown>> {
    return (points ?? []).map((p) => ({
      Type: p.Type,
      ...(p.Name ? { Name: p.Name } : {}),
      Source: p.Source,
      Destination: p.Destination,
      ...(p.Type === 'volume' ? { Driver: p.Driver || 'local' } : {}),
      Mode: p.Mode,
      RW: p.RW,
      Propagation: p.Propagation,
    }));
  }

  /**
   * For `cp` on a stopped container whose overlay is mounted at `dir`: its
   * binds and volumes mounted where the container sees them. Returns the undo.
   */
  async forArchive(points: MountPointRecord[] | undefined, dir: string): Promise<() => Promise<void>> {
    const binds = (points ?? []).filter((p) => p.Type !== 'tmpfs' && fs.existsSync(p.Source)).map((p) => ({ source: p.Source, destination: p.Destination, readonly: !p.RW }));
    if (!binds.length) return async () => undefined;
    const done = await bindInRoot(dir, binds);
    return async () => {
      for (const m of done.reverse()) await unmount(m).catch(() => unmount(m, { lazy: true }));
    };
  }
}
