import path from 'node:path';
import { readJsonFile, removeStaleTemps, writeFileAtomic } from './atomic-file.js';

/** One cached build step: the image it produced from `parent`. */
export interface BuildCacheEntry {
  image: string;
  /** the image the step ran on ("" for scratch) */
  parent: string;
  /** the instruction, for `builder prune`/`system df` listings */
  description: string;
  created: string;
  lastUsed: string;
  /** bytes of the layer the step added (0 for config-only steps) */
  size: number;
}

interface Index {
  entries: Record<string, BuildCacheEntry>;
}

/**
 * The builder's step cache: content-addressed key → resulting image, one atomically
 * replaced JSON file under the data root so it survives restarts.
 */
export class BuildCacheStore {
  private index: Index = { entries: {} };
  private readonly file: string;
  private lock: Promise<unknown> = Promise.resolve();
  private parents = new Set<string>();

  constructor(readonly root: string) {
    this.file = path.join(root, 'cache.json');
  }

  async init(): Promise<void> {
    await removeStaleTemps(this.root).catch(() => undefined);
    this.index = (await readJsonFile<Index>(this.file)) ?? { entries: {} };
    this.reindex();
  }

  private reindex(): void {
    this.parents = new Set(Object.values(this.index.entries).map((e) => e.parent));
  }

  get(key: string): BuildCacheEntry | undefined {
    return this.index.entries[key];
  }

  entries(): Array<[string, BuildCacheEntry]> {
    return Object.entries(this.index.entries);
  }

  /** Whether some cached step was built on `imageId` (dockerd hides such untagged images). */
  hasChildren(imageId: string): boolean {
    return this.parents.has(imageId);
  }

  /** Applies a batch of changes and persists them; batches never interleave. */
  update(fn: (entries: Record<string, BuildCacheEntry>) => void): Promise<void> {
    const run = async () => {
      fn(this.index.entries);
      this.reindex();
      await writeFileAtomic(this.file, JSON.stringify(this.index));
    };
    const p = this.lock.then(run, run);
    this.lock = p.catch(() => undefined);
    return p;
  }
}
