// `builder prune` and the build cache rows of `system df`: cache entries and the untagged
// intermediate images they keep.
import { createHash } from 'node:crypto';
import { badRequest } from '../../errors.js';
import type { BuildCacheStore } from '../../stores/build-cache.js';
import type { ImageService } from '../image-service.js';

export interface BuildCacheRecord {
  ID: string;
  Parent: string;
  Parents: string[];
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string;
  UsageCount: number;
}

const shortKey = (k: string) => createHash('sha256').update(k).digest('hex').slice(0, 25);

export class BuildCacheService {
  constructor(
    private readonly cache: BuildCacheStore,
    private readonly images: ImageService,
  ) {}

  /** The cache as `GET /system/df` reports it (`BuildCache`). */
  records(): BuildCacheRecord[] {
    const byImage = new Map(this.cache.entries().map(([k, e]) => [e.image, k]));
    return this.cache
      .entries()
      .filter(([, e]) => this.images.store.get(e.image))
      .map(([k, e]) => {
        const parent = byImage.get(e.parent);
        return {
          ID: shortKey(k),
          Parent: parent ? shortKey(parent) : '',
          Parents: parent ? [shortKey(parent)] : [],
          Type: 'regular',
          Description: e.description,
          InUse: false,
          Shared: false,
          Size: e.size,
          CreatedAt: e.created,
          LastUsedAt: e.lastUsed,
          UsageCount: 1,
        };
      });
  }

  async prune(o: { all: boolean; filters: Map<string, string[]> }): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
    for (const k of o.filters.keys()) if (!['until', 'id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const deleted: string[] = [];
    let space = 0;
    const entries = this.cache.entries();
    for (const [k, e] of entries) {
      deleted.push(shortKey(k));
      if (!this.images.store.get(e.image) || this.images.store.refsOf(e.image).length > 0) continue;
      // an image a container still uses stays; only its cache entry goes
      const removed = await this.images.remove(e.image, { force: false, noprune: false }).catch(() => undefined);
      if (removed) space += e.size;
    }
    await this.cache.update((all) => {
      for (const [k] of entries) delete all[k];
    });
    return { CachesDeleted: deleted.length ? deleted : null, SpaceReclaimed: space };
  }
}
