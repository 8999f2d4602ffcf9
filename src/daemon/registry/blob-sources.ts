import fs from 'node:fs';
import { writeFileAtomic } from '../stores/atomic-file.js';

const PER_BLOB = 5;

interface Stored {
  sources?: Record<string, string[]>;
  gzip?: Record<string, { digest: string; size: number }>;
}

/**
 * What berthd learned from talking to registries (dockerd's v2 metadata):
 * which repositories (`domain/path`) hold a blob, so a push can mount a layer
 * from a sibling repository instead of uploading it, and which gzip blob a
 * locally uncompressed layer was pushed as, so pushing it again sends (or
 * skips) the same bytes. Without a file it only remembers for the daemon's lifetime.
 */
export class BlobSources {
  private sources = new Map<string, string[]>();
  private gzip = new Map<string, { digest: string; size: number }>();
  private loaded = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file?: string) {}

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    if (!this.file) return;
    try {
      const j = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Stored;
      for (const [d, repos] of Object.entries(j.sources ?? {})) if (Array.isArray(repos)) this.sources.set(d, repos.filter((r) => typeof r === 'string'));
      for (const [d, g] of Object.entries(j.gzip ?? {})) if (g && typeof g.digest === 'string') this.gzip.set(d, { digest: g.digest, size: Number(g.size) });
    } catch (e) {
      // A missing file is a fresh daemon; a damaged one only costs uploads and compressions it would have saved.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.sources.clear();
        this.gzip.clear();
      }
    }
  }

  /** Repositories holding `digest`, most recent first. */
  get(digest: string): string[] {
    this.load();
    return [...(this.sources.get(digest) ?? [])];
  }

  async add(digests: string[], repo: string): Promise<void> {
    this.load();
    if (digests.every((d) => this.sources.get(d)?.[0] === repo)) return;
    for (const d of digests) {
      const list = (this.sources.get(d) ?? []).filter((r) => r !== repo);
      list.unshift(repo);
      this.sources.set(d, list.slice(0, PER_BLOB));
    }
    await this.save();
  }

  /** The gzip blob an uncompressed layer was pushed as. */
  compressed(digest: string): { digest: string; size: number } | undefined {
    this.load();
    return this.gzip.get(digest);
  }

  async setCompressed(digest: string, gz: { digest: string; size: number }): Promise<void> {
    this.load();
    this.gzip.set(digest, gz);
    await this.save();
  }

  private async save(): Promise<void> {
    if (!this.file) return;
    const file = this.file;
    const data = JSON.stringify({ sources: Object.fromEntries(this.sources), gzip: Object.fromEntries(this.gzip) } satisfies Stored);
    // Writes are serialised so an older snapshot never lands after a newer one.
    this.writing = this.writing.then(() => writeFileAtomic(file, data));
    await this.writing;
  }
}
