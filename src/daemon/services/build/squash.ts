// `--squash`: the layers a build added on top of its base, merged into one (whiteouts and
// opaque directories applied across them), as dockerd's classic builder does it.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ImageService } from '../image-service.js';

const WH = '.wh.';
const OPQ = '.wh..wh..opq';

interface Kept {
  header: tar.Header;
  /** unpacked layer directory holding the file's content */
  dir?: string;
}

/** Reads the header list of one layer blob (bodies are skipped: contents come from the unpacked layer). */
async function headers(images: ImageService, digest: string): Promise<tar.Header[]> {
  const out: tar.Header[] = [];
  const extract = tar.extract();
  images.content.createReadStream(digest).pipe(extract);
  for await (const entry of extract) {
    out.push({ ...entry.header });
    entry.resume();
  }
  return out;
}

const clean = (n: string) => n.replace(/^\.?\/+/, '').replace(/\/+$/, '');

/** The merged tar of `layers` (bottom first: blob digest and unpacked dir). */
export async function squashLayers(images: ImageService, layers: Array<{ digest: string; dir: string }>): Promise<Readable> {
  const kept = new Map<string, Kept>();
  const drop = (prefix: string) => {
    for (const k of [...kept.keys()]) if (k.startsWith(prefix + '/')) kept.delete(k);
  };
  for (const l of layers) {
    for (const h of await headers(images, l.digest)) {
      const name = clean(h.name);
      if (!name) continue;
      const base = path.posix.basename(name);
      const dir = path.posix.dirname(name) === '.' ? '' : path.posix.dirname(name);
      if (base === OPQ) {
        // what lower new layers put there is gone; the marker hides the base's content too
        drop(dir);
        kept.set(name, { header: h });
      } else if (base.startsWith(WH)) {
        const victim = (dir ? dir + '/' : '') + base.slice(WH.length);
        kept.delete(victim);
        drop(victim);
        kept.set(name, { header: h });
      } else {
        kept.delete((dir ? dir + '/' : '') + WH + base);
        if (h.type !== 'directory') drop(name);
        kept.set(name, { header: h, dir: h.type === 'file' || h.type === 'contiguous-file' ? l.dir : undefined });
      }
    }
  }
  const pack = tar.pack();
  const out = new PassThrough();
  pack.pipe(out);
  const names = [...kept.keys()].sort();
  void (async () => {
    for (const n of names) {
      const k = kept.get(n)!;
      const h = { ...k.header, name: k.header.type === 'directory' ? n + '/' : n };
      await new Promise<void>((resolve, reject) => {
        if (!k.dir) {
          pack.entry({ ...h, size: 0 }, Buffer.alloc(0), (e) => (e ? reject(e) : resolve()));
          return;
        }
        const w = pack.entry(h, (e) => (e ? reject(e) : resolve()));
        const r = createReadStream(path.join(k.dir, n));
        r.on('error', reject);
        r.pipe(w);
      });
    }
    pack.finalize();
  })().catch((e: Error) => out.destroy(e));
  return out;
}
