import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import tar from 'tar-stream';
import { cleanComponents } from '../system/layer-extract.js';

/** An image archive unpacked to plain temp files; its own symlinks stay names, never touch the disk. */
export class ArchiveReader {
  private files = new Map<string, string>();
  private links = new Map<string, string>();

  constructor(readonly dir: string) {}

  static async read(input: Readable, dir: string): Promise<ArchiveReader> {
    await fsp.mkdir(dir, { recursive: true });
    const r = new ArchiveReader(dir);
    const extract = tar.extract();
    const feeding = pipeline(input, extract as unknown as NodeJS.WritableStream).catch((e) => {
      extract.destroy(e as Error);
      throw e;
    });
    let n = 0;
    for await (const entry of extract) {
      const h = entry.header;
      const name = cleanComponents(h.name).join('/');
      if (name && (h.type === 'file' || h.type === 'contiguous-file')) {
        const file = path.join(dir, String(n++));
        await pipeline(entry as unknown as Readable, createWriteStream(file));
        r.files.set(name, file);
        continue;
      }
      if (name && h.type === 'symlink') {
        // Legacy archives link repeated layers: `<id>/layer.tar -> ../<other>/layer.tar`.
        const parent = name.split('/').slice(0, -1);
        const target = h.linkname ?? '';
        r.links.set(name, cleanComponents(target.startsWith('/') ? target : [...parent, target].join('/')).join('/'));
      } else if (name && h.type === 'link') {
        r.links.set(name, cleanComponents(h.linkname ?? '').join('/'));
      }
      entry.resume();
    }
    await feeding;
    return r;
  }

  /** Temp file holding the archive member `name`, following archive-internal links. */
  file(name: string): string | undefined {
    let p = cleanComponents(name).join('/');
    for (let i = 0; i < 16; i++) {
      const f = this.files.get(p);
      if (f) return f;
      const l = this.links.get(p);
      if (l === undefined) return undefined;
      p = l;
    }
    return undefined;
  }

  async json<T = any>(name: string): Promise<T | undefined> {
    const f = this.file(name);
    if (!f) return undefined;
    try {
      return JSON.parse(await fsp.readFile(f, 'utf8')) as T;
    } catch {
      throw new Error(`invalid JSON in archive member ${name}`);
    }
  }
}

export interface ArchiveImage {
  /** Temp file of the config blob. */
  config: string;
  /** Temp files of the layer blobs, lowest first (compressed or not). */
  layers: string[];
  /** References as written in the archive: familiar (`busybox:latest`) or full. */
  names: string[];
}

const MT_INDEX = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];

function blobPath(digest: string): string {
  const [alg, hex] = digest.split(':');
  if (!alg || !hex || !/^[a-z0-9]+$/.test(alg) || !/^[a-f0-9]+$/.test(hex)) throw new Error(`invalid digest in archive: ${digest}`);
  return `blobs/${alg}/${hex}`;
}

function need(r: ArchiveReader, name: string): string {
  const f = r.file(name);
  if (!f) throw new Error(`archive member ${name} not found`);
  return f;
}

/**
 * The images in a `docker save` archive (manifest.json; written by every
 * dockerd) or, failing that, an OCI image layout (index.json).
 */
export async function archiveImages(r: ArchiveReader, platform: { os: string; architecture: string }): Promise<ArchiveImage[]> {
  const manifest = await r.json<Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>>('manifest.json');
  if (manifest) {
    if (!Array.isArray(manifest)) throw new Error('invalid manifest.json');
    return manifest.map((m) => ({
      config: need(r, m.Config),
      layers: (m.Layers ?? []).map((l) => need(r, l)),
      names: m.RepoTags ?? [],
    }));
  }
  const index = await r.json<any>('index.json');
  if (!index) throw new Error('invalid archive: no manifest.json or index.json found');
  const out: ArchiveImage[] = [];
  const visit = async (desc: any, names: string[], depth: number): Promise<void> => {
    if (depth > 4) throw new Error('index nesting too deep');
    const m = await r.json<any>(blobPath(desc.digest));
    if (!m) throw new Error(`archive member ${blobPath(desc.digest)} not found`);
    const mt = m.mediaType ?? desc.mediaType;
    if (MT_INDEX.includes(mt) || Array.isArray(m.manifests)) {
      const pick = (m.manifests as any[]).find((d) => d.platform?.os === platform.os && d.platform?.architecture === platform.architecture) ?? (m.manifests as any[]).find((d) => !d.platform);
      if (!pick) throw new Error(`no image for platform ${platform.os}/${platform.architecture} in archive`);
      return visit(pick, names, depth + 1);
    }
    out.push({ config: need(r, blobPath(m.config.digest)), layers: (m.layers as any[]).map((l) => need(r, blobPath(l.digest))), names });
  };
  for (const desc of index.manifests ?? []) {
    const a = desc.annotations ?? {};
    const names: string[] = [];
    if (a['io.containerd.image.name']) names.push(a['io.containerd.image.name']);
    else if (a['org.opencontainers.image.ref.name'] && /[:/]/.test(a['org.opencontainers.image.ref.name'])) names.push(a['org.opencontainers.image.ref.name']);
    await visit(desc, names, 0);
  }
  return out;
}

export interface SaveBlob {
  digest: string;
  size: number;
  open(): Readable;
}

export interface SaveImage {
  config: SaveBlob;
  manifest: SaveBlob & { mediaType: string };
  layers: SaveBlob[];
  /** Familiar tags (`busybox:latest`) to record; empty for an ID-only save. */
  repoTags: string[];
  /** Full normalised names, parallel to repoTags, for the OCI index annotations. */
  fullNames: string[];
}

/**
 * Writes the archive dockerd ≥25 writes: an OCI image layout (blobs/,
 * index.json, oci-layout) plus the legacy manifest.json and repositories that
 * older clients read.
 */
export async function writeArchive(images: SaveImage[], out: Writable): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack as unknown as Readable, out);
  const mtime = new Date(0);
  const add = async (name: string, data: Buffer | SaveBlob, type: 'file' | 'directory' = 'file') => {
    if (type === 'directory') {
      pack.entry({ name, type, mode: 0o755, mtime });
      return;
    }
    if (Buffer.isBuffer(data)) {
      await new Promise<void>((res, rej) => pack.entry({ name, size: data.length, mode: 0o644, mtime }, data, (e) => (e ? rej(e) : res())));
      return;
    }
    const sink = pack.entry({ name, size: data.size, mode: 0o644, mtime });
    const finished = once(sink as unknown as NodeJS.EventEmitter, 'finish');
    await pipeline(data.open(), sink as unknown as Writable);
    await finished.catch(() => {});
  };
  try {
    await add('blobs/', Buffer.alloc(0), 'directory');
    await add('blobs/sha256/', Buffer.alloc(0), 'directory');
    const written = new Set<string>();
    for (const img of images) {
      for (const b of [...img.layers, img.config, img.manifest]) {
        if (written.has(b.digest)) continue;
        written.add(b.digest);
        await add(blobPath(b.digest), b);
      }
    }
    const manifests: any[] = [];
    for (const img of images) {
      const base = { mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.size };
      if (img.fullNames.length === 0) manifests.push(base);
      img.fullNames.forEach((full, i) => {
        const tag = img.repoTags[i]!.slice(img.repoTags[i]!.lastIndexOf(':') + 1);
        manifests.push({ ...base, annotations: { 'io.containerd.image.name': full, 'org.opencontainers.image.ref.name': tag } });
      });
    }
    await add('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests })));
    const legacy = images.map((img) => ({
      Config: blobPath(img.config.digest),
      RepoTags: img.repoTags.length ? img.repoTags : null,
      Layers: img.layers.map((l) => blobPath(l.digest)),
    }));
    await add('manifest.json', Buffer.from(JSON.stringify(legacy)));
    await add('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    const repos: Record<string, Record<string, string>> = {};
    for (const img of images) {
      const top = img.layers[img.layers.length - 1];
      if (!top) continue;
      for (const t of img.repoTags) {
        const i = t.lastIndexOf(':');
        (repos[t.slice(0, i)] ??= {})[t.slice(i + 1)] = top.digest.slice(7);
      }
    }
    if (Object.keys(repos).length) await add('repositories', Buffer.from(JSON.stringify(repos)));
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    throw e;
  }
  await done;
}

