import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { badRequest, conflict, errorMessage, serverError } from '../errors.js';
import type { ContainerService } from './container-service.js';
import type { ImageService } from './image-service.js';
import type { EventBus } from './events.js';
import { overlayChanges, upperDirTar, type Change } from '../system/layer-diff.js';
import { mountOverlay, unmount } from '../system/overlay-mount.js';
import { applyChanges } from './image-changes.js';
import { hostPlatform } from './image-service.js';
import { familiarString, parseNormalized, withDefaultTag } from '../../common/reference.js';

const TAR = '/bin/tar';

export interface CommitOptions {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause: boolean;
  changes: string[];
  /** Config from the request body; empty fields are taken from the container. */
  config?: Record<string, any>;
}

/** diff, commit and export: operations on a container's filesystem. */
export class ContainerOps {
  constructor(
    private containers: ContainerService,
    private images: ImageService,
    private events: EventBus,
    private tmpDir: string,
  ) {}

  /** The container's writable layer and the image layers below it, nearest first. */
  private layers(id: string): { upper: string; lowers: string[] } {
    const snaps = this.images.snapshots;
    if (!snaps.has(id)) throw serverError(`container ${id} has no filesystem layer`);
    return { upper: snaps.upperDir(id), lowers: snaps.lowerDirs(snaps.get(id)!.parent) };
  }

  async changes(ref: string): Promise<Change[]> {
    const c = this.containers.get(ref);
    const { upper, lowers } = this.layers(c.id);
    return overlayChanges(upper, lowers);
  }

  async commit(o: CommitOptions): Promise<{ Id: string }> {
    const c = this.containers.get(o.container);
    if (c.status === 'removing') throw conflict(`You cannot commit container ${c.id} which is being removed`);
    if (c.status === 'dead') throw conflict(`You cannot commit container ${c.id} which is dead`);
    const rec = c.rec;
    const config = mergeConfig(o.config ?? {}, rec.config as Record<string, any>);
    try {
      applyChanges(config, o.changes);
    } catch (e) {
      throw badRequest(errorMessage(e));
    }
    const pause = o.pause && c.status === 'running';
    if (pause) await this.containers.pause(c.id);
    let layer: { digest: string; size: number };
    try {
      const { upper } = this.layers(c.id);
      layer = await this.images.content.ingest(upperDirTar(upper));
    } finally {
      if (pause) await this.containers.unpause(c.id).catch(() => undefined);
    }
    const parent = await this.images.resolve(rec.imageId).catch(() => undefined);
    const pc = parent?.config ?? {};
    const created = new Date().toISOString();
    const history = [...((pc.history as unknown[]) ?? [])];
    const entry: Record<string, unknown> = { created };
    if (o.author) entry.author = o.author;
    entry.created_by = [rec.path, ...rec.args].join(' ');
    if (o.comment) entry.comment = o.comment;
    history.push(entry);
    const imageConfig: Record<string, unknown> = {
      architecture: pc.architecture ?? hostPlatform.architecture,
      ...(o.author ? { author: o.author } : {}),
      ...(o.comment ? { comment: o.comment } : {}),
      config: config,
      container: c.id,
      created,
      docker_version: 'berth',
      history,
      os: pc.os ?? 'linux',
      rootfs: { type: 'layers', diff_ids: [...((pc.rootfs?.diff_ids as string[]) ?? []), layer.digest] },
    };
    if (pc.variant) imageConfig.variant = pc.variant;
    const img = await this.images.addChildImage(parent?.id, imageConfig, layer, o.repo || undefined, o.tag || undefined);
    let imageRef = '';
    if (o.repo) {
      const r = withDefaultTag(parseNormalized(o.repo + (o.tag ? ':' + o.tag : '')));
      imageRef = familiarString(r);
      this.events.emit('image', 'tag', img.id, { name: imageRef });
    }
    this.containers.emitContainerEvent(c.id, 'commit', { comment: o.comment ?? '', imageID: img.id, imageRef });
    return { Id: img.id };
  }

  /**
   * Streams the container's flattened filesystem. A private read-only overlay
   * of its layers is mounted for the purpose: no container process sees it,
   * and it works the same whether the container runs or not.
   */
  async export(ref: string, out: Writable, onStart: () => void): Promise<void> {
    const c = this.containers.get(ref);
    const { upper, lowers } = this.layers(c.id);
    const mnt = await fsp.mkdtemp(path.join(this.tmpDir || os.tmpdir(), 'export-'));
    try {
      await mountOverlay({ type: 'overlay', source: 'overlay', options: ['ro', 'lowerdir=' + [upper, ...lowers].join(':')] }, mnt);
    } catch (e) {
      await fsp.rm(mnt, { recursive: true, force: true });
      throw serverError(errorMessage(e));
    }
    try {
      const names = (await fsp.readdir(mnt)).sort();
      onStart();
      await new Promise<void>((resolve, reject) => {
        // GNU tar walks with openat relative to directory descriptors and does not follow symlinks.
        const args = ['--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '-C', mnt, '-cf', '-'];
        const child = spawn(TAR, names.length ? [...args, '--', ...names] : [...args, '-T', '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        child.stdout.pipe(out, { end: false });
        out.once('close', () => child.kill());
        child.on('error', reject);
        child.on('close', (code) => (code === 0 || code === null ? resolve() : reject(new Error(err.trim() || `tar exited with ${code}`))));
      });
    } finally {
      await unmount(mnt).catch(() => unmount(mnt, { lazy: true }).catch(() => undefined));
      await fsp.rm(mnt, { recursive: true, force: true }).catch(() => undefined);
    }
    this.containers.emitContainerEvent(c.id, 'export');
  }
}

/** moby's commit merge: fields the request leaves empty come from the container's config. */
function mergeConfig(user: Record<string, any>, ctr: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = structuredClone(ctr);
  for (const [k, v] of Object.entries(user)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (k === 'Env' && Array.isArray(v)) {
      const keys = new Set(v.map((e: string) => e.split('=')[0]));
      out.Env = [...v, ...((ctr.Env as string[]) ?? []).filter((e) => !keys.has(e.split('=')[0]))];
    } else if ((k === 'Labels' || k === 'ExposedPorts' || k === 'Volumes') && typeof v === 'object') {
      out[k] = { ...(ctr[k] ?? {}), ...v };
    } else out[k] = v;
  }
  return out;
}
