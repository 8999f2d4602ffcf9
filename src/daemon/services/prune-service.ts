import type { ContainerService } from './container-service.js';
import type { ImageService } from './image-service.js';
import type { EventBus } from './events.js';
import type { VolumeService } from './volume-service.js';
import { badRequest } from '../errors.js';
import { timeToSeconds } from '../system/log-reader.js';

function untilFilter(values: string[] | undefined): number | undefined {
  if (!values?.length) return undefined;
  const v = values[values.length - 1]!;
  const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : timeToSeconds(v);
  if (Number.isNaN(n)) throw badRequest(`invalid filter 'until=${v}'`);
  return n;
}

/** label=k, label=k=v, label!=k, label!=k=v, as dockerd's prune filters match them. */
function labelsMatch(labels: Record<string, string>, f: Map<string, string[]>): boolean {
  const has = (spec: string) => {
    const i = spec.indexOf('=');
    return i < 0 ? spec in labels : labels[spec.slice(0, i)] === spec.slice(i + 1);
  };
  return (f.get('label') ?? []).every(has) && !(f.get('label!') ?? []).some(has);
}

/** container prune, image prune, system df: housekeeping over containers and images. */
export class PruneService {
  constructor(
    private containers: ContainerService,
    private images: ImageService,
    private events: EventBus,
    private volumes?: VolumeService,
  ) {}

  async pruneContainers(f: Map<string, string[]>): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    for (const k of f.keys()) if (!['until', 'label', 'label!'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const until = untilFilter(f.get('until'));
    const deleted: string[] = [];
    let space = 0;
    for (const r of this.containers.all()) {
      const st = r.state.Status;
      if (st !== 'exited' && st !== 'created' && st !== 'dead') continue;
      if (until !== undefined && !(Date.parse(r.created) / 1000 < until)) continue;
      if (!labelsMatch(r.config.Labels ?? {}, f)) continue;
      const size = await this.images.containerRootfsSize(r.id).catch(() => 0);
      try {
        await this.containers.remove(r.id, { force: false, volumes: false });
      } catch {
        continue; // started or removed meanwhile
      }
      deleted.push(r.id);
      space += size;
    }
    this.events.emit('container', 'prune', '', { reclaimed: String(space) });
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: space };
  }

  async pruneImages(f: Map<string, string[]>): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed: number }> {
    for (const k of f.keys()) if (!['until', 'label', 'label!', 'dangling'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const d = (f.get('dangling') ?? ['true'])[0]!.toLowerCase();
    if (!['true', 'false', '1', '0'].includes(d)) throw badRequest(`invalid filter 'dangling=${d}'`);
    const danglingOnly = d === 'true' || d === '1';
    const until = untilFilter(f.get('until'));
    const used = new Set(this.containers.all().map((c) => c.imageId));
    const report: Array<{ Untagged?: string; Deleted?: string }> = [];
    let space = 0;
    for (const img of await this.images.list({})) {
      if (used.has(img.id)) continue;
      const dangling = img.repoTags.length === 0 && img.repoDigests.length === 0;
      if (danglingOnly && !dangling) continue;
      if (until !== undefined && !(Date.parse(img.created) / 1000 < until)) continue;
      if (!labelsMatch(img.config?.config?.Labels ?? {}, f)) continue;
      try {
        const recs = await this.images.remove(img.id, { force: true, noprune: false });
        report.push(...recs);
        if (recs.some((r) => r.Deleted === img.id)) space += img.size;
      } catch {
        /* in use by a container created meanwhile */
      }
    }
    this.events.emit('image', 'prune', '', { reclaimed: String(space) });
    return { ImagesDeleted: report.length ? report : null, SpaceReclaimed: space };
  }

  private buildCache: () => Array<{ Size: number }> = () => [];

  /** The builder's cache rows for `system df` (BuildCacheService.records). */
  setBuildCache(fn: () => Array<{ Size: number }>): void {
    this.buildCache = fn;
  }

  async df(): Promise<Record<string, unknown>> {
    const recs = this.containers.all();
    const counts = new Map<string, number>();
    for (const r of recs) counts.set(r.imageId, (counts.get(r.imageId) ?? 0) + 1);
    const images = (await this.images.list({})).map((rec) => ({ ...this.images.summary(rec), Containers: counts.get(rec.id) ?? 0, SharedSize: 0, VirtualSize: rec.size }));
    const list = (await this.containers.list({ all: true, size: true, filters: new Map() })) as Array<Record<string, unknown>>;
    return {
      LayersSize: images.reduce((a, i) => a + (i.Size as number), 0),
      Images: images,
      Containers: list,
      Volumes: (await this.volumes?.usage()) ?? [],
      BuildCache: this.buildCache(),
      BuilderSize: this.buildCache().reduce((a, b) => a + b.Size, 0),
    };
  }
}
