import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';
import type { MountSpec } from '../system/overlay-mount.js';

export type { MountSpec };

export interface SnapshotInfo {
  /** Short directory name under the root: keeps overlay option strings short. */
  id: number;
  kind: 'committed' | 'active';
  parent?: string;
  /** Unpacked bytes of a committed layer. */
  size?: number;
  created: string;
}

interface Metadata {
  snapshots: Record<string, SnapshotInfo>;
}

// The kernel copies mount options into one page; leave room for the other options.
const MAX_OPTIONS_LENGTH = 4096 - 512;

/**
 * Overlayfs snapshots, containerd's model: committed snapshots (image layers,
 * keyed by chain ID) are read-only lower dirs; active ones (keyed by container
 * ID) add an upper and work dir on top of a committed parent.
 */
export class Snapshotter {
  private meta: Metadata = { snapshots: {} };
  private nextId = 1;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly metaFile: string;
  private readonly emptyDir: string;

  constructor(readonly root: string) {
    this.metaFile = path.join(root, 'metadata.json');
    this.emptyDir = path.join(root, 'empty');
  }

  /** Loads metadata and removes directories a crash left half-made. */
  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
    await fsp.mkdir(this.emptyDir, { recursive: true });
    this.meta = (await readJsonFile<Metadata>(this.metaFile)) ?? { snapshots: {} };
    const known = new Set(Object.values(this.meta.snapshots).map((s) => String(s.id)));
    for (const name of await fsp.readdir(this.root)) {
      if (/^\d+$/.test(name) && !known.has(name)) await fsp.rm(path.join(this.root, name), { recursive: true, force: true });
    }
    this.nextId = Math.max(0, ...Object.values(this.meta.snapshots).map((s) => s.id)) + 1;
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn, fn);
    this.lock = p.catch(() => {});
    return p;
  }

  private async save(): Promise<void> {
    await writeFileAtomic(this.metaFile, JSON.stringify(this.meta));
  }

  has(key: string): boolean {
    return key in this.meta.snapshots;
  }

  get(key: string): SnapshotInfo | undefined {
    return this.meta.snapshots[key];
  }

  list(): string[] {
    return Object.keys(this.meta.snapshots);
  }

  children(key: string): string[] {
    return Object.entries(this.meta.snapshots)
      .filter(([, s]) => s.parent === key)
      .map(([k]) => k);
  }

  private must(key: string): SnapshotInfo {
    const s = this.meta.snapshots[key];
    if (!s) throw new Error(`snapshot ${key} does not exist`);
    return s;
  }

  private dir(s: SnapshotInfo): string {
    return path.join(this.root, String(s.id));
  }

  /** The directory holding a committed snapshot's files. */
  fsDir(key: string): string {
    return path.join(this.dir(this.must(key)), 'fs');
  }

  upperDir(key: string): string {
    const s = this.must(key);
    if (s.kind !== 'active') throw new Error(`snapshot ${key} is not active`);
    return path.join(this.dir(s), 'fs');
  }

  workDir(key: string): string {
    return path.join(this.dir(this.must(key)), 'work');
  }

  /** Committed ancestors' fs dirs, nearest first (overlay's lowerdir order). */
  lowerDirs(parent: string | undefined): string[] {
    const out: string[] = [];
    let k = parent;
    while (k !== undefined) {
      const s = this.must(k);
      out.push(path.join(this.dir(s), 'fs'));
      k = s.parent;
    }
    return out;
  }

  /**
   * Makes a committed snapshot: `fill` writes the content into a fresh dir
   * that becomes visible under `key` only when it succeeded.
   */
  async commitFrom<T extends { size?: number }>(key: string, parent: string | undefined, fill: (dir: string) => Promise<T>): Promise<T> {
    if (this.has(key)) throw new Error(`snapshot ${key} already exists`);
    if (parent !== undefined) this.must(parent);
    const staged = await this.stage(fill);
    await this.commitStaged(key, parent, staged);
    return staged.result;
  }

  /**
   * Fills a fresh dir that no snapshot names yet. A layer's content does not
   * depend on its parent's, so a pull unpacks layers in parallel as they
   * arrive and commits them in chain order afterwards.
   */
  async stage<T extends { size?: number }>(fill: (dir: string) => Promise<T>): Promise<Staged<T>> {
    const id = this.nextId++;
    const dir = path.join(this.root, String(id));
    await fsp.mkdir(path.join(dir, 'fs'), { recursive: true, mode: 0o755 });
    try {
      return { id, result: await fill(path.join(dir, 'fs')) };
    } catch (e) {
      await fsp.rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Names a staged dir `key` on top of committed `parent`; a concurrent unpack that won the race keeps its own. */
  async commitStaged<T extends { size?: number }>(key: string, parent: string | undefined, staged: Staged<T>): Promise<void> {
    const dir = path.join(this.root, String(staged.id));
    await this.serialize(async () => {
      if (this.has(key)) {
        await fsp.rm(dir, { recursive: true, force: true });
        return;
      }
      if (parent !== undefined) this.must(parent);
      this.meta.snapshots[key] = { id: staged.id, kind: 'committed', parent, size: staged.result.size, created: new Date().toISOString() };
      await this.save();
    });
  }

  /** Drops a staged dir that will not be committed (a failed pull). */
  async discardStaged(staged: { id: number }): Promise<void> {
    await fsp.rm(path.join(this.root, String(staged.id)), { recursive: true, force: true });
  }

  /** Writable snapshot for a container on top of committed `parent`. */
  async prepare(key: string, parent: string | undefined): Promise<MountSpec> {
    return this.serialize(async () => {
      if (this.has(key)) throw new Error(`snapshot ${key} already exists`);
      if (parent !== undefined && this.must(parent).kind !== 'committed') throw new Error(`parent ${parent} is not committed`);
      const id = this.nextId++;
      const dir = path.join(this.root, String(id));
      await fsp.mkdir(path.join(dir, 'fs'), { recursive: true, mode: 0o755 });
      await fsp.mkdir(path.join(dir, 'work'), { recursive: true, mode: 0o700 });
      this.meta.snapshots[key] = { id, kind: 'active', parent, created: new Date().toISOString() };
      try {
        await this.save();
      } catch (e) {
        delete this.meta.snapshots[key];
        await fsp.rm(dir, { recursive: true, force: true });
        throw e;
      }
      return this.mounts(key);
    });
  }

  mounts(key: string): MountSpec {
    const s = this.must(key);
    if (s.kind === 'committed') {
      // Read-only view of a committed layer.
      const lowers = [this.fsDir(key), ...this.lowerDirs(s.parent)];
      return lowers.length === 1
        ? { type: 'bind', source: lowers[0]!, options: ['ro', 'rbind'] }
        : this.overlaySpec(lowers, undefined);
    }
    const lowers = this.lowerDirs(s.parent);
    return this.overlaySpec(lowers.length ? lowers : [this.emptyDir], { upper: path.join(this.dir(s), 'fs'), work: path.join(this.dir(s), 'work') });
  }

  private overlaySpec(lowers: string[], rw: { upper: string; work: string } | undefined): MountSpec {
    const build = (rel: (p: string) => string): string[] => {
      const opts = ['lowerdir=' + lowers.map(rel).join(':')];
      if (rw) opts.push('upperdir=' + rel(rw.upper), 'workdir=' + rel(rw.work));
      return opts;
    };
    const abs = build((p) => p);
    if (abs.join(',').length <= MAX_OPTIONS_LENGTH) return { type: 'overlay', source: 'overlay', options: abs };
    const relOpts = build((p) => path.relative(this.root, p));
    if (relOpts.join(',').length > MAX_OPTIONS_LENGTH) throw new Error(`too many layers to mount (${lowers.length})`);
    return { type: 'overlay', source: 'overlay', options: relOpts, cwd: this.root };
  }

  /** Removes a snapshot; refuses while other snapshots build on it. */
  async remove(key: string): Promise<void> {
    await this.serialize(async () => {
      const s = this.meta.snapshots[key];
      if (!s) return;
      const kids = this.children(key);
      if (kids.length) throw new Error(`cannot remove snapshot ${key}: it has ${kids.length} dependent snapshot(s)`);
      delete this.meta.snapshots[key];
      await this.save();
      await fsp.rm(this.dir(s), { recursive: true, force: true });
    });
  }

  /** Bytes in the snapshot's own dir (the upper dir for containers), hardlinks counted once: docker's SizeRw. */
  async usage(key: string): Promise<number> {
    return dirSize(path.join(this.dir(this.must(key)), 'fs'));
  }
}

export async function dirSize(root: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      const st = await fsp.lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) {
        await walk(p);
        continue;
      }
      if (st.nlink > 1) {
        const k = `${st.dev}:${st.ino}`;
        if (seen.has(k)) continue;
        seen.add(k);
      }
      total += st.size;
    }
  };
  await walk(root);
  return total;
}

export interface Staged<T> {
  id: number;
  result: T;
}
