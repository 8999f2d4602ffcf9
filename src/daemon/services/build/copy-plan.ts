// COPY/ADD with docker's destination rules: a directory source copies its contents, a file
// goes into the destination when that ends with "/" or is a directory in the image, missing
// parents are created (owned by the --chown identity), existing ones keep their metadata.
import path from 'node:path';
import { PatternMatcher } from '../../../builder/dockerignore.js';
import type { ImageFs } from './image-fs.js';
import type { LayerEntry } from './layer-tar.js';
import { resolveFollow, type SourceTree } from './source-tree.js';

export interface CopySource {
  tree: SourceTree;
  /** matched path in the tree (before following a final symlink) */
  rel: string;
  /** ADD of a local archive: the tree is the unpacked archive, copied like a directory */
  archive?: boolean;
}

export interface CopyRequest {
  sources: CopySource[];
  inline: Array<{ name: string; data: Buffer; mode?: number; mtime?: Date }>;
  /** absolute destination; a trailing "/" is kept */
  dest: string;
  uid: number;
  gid: number;
  /** ownership from --chown; otherwise files belong to root, archives keep theirs */
  chowned: boolean;
  chmod?: number;
  image: ImageFs;
  /** `--exclude` patterns, matched against paths relative to each source */
  exclude?: string[];
}

const trimSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

export async function planCopy(req: CopyRequest): Promise<Map<string, LayerEntry>> {
  const out = new Map<string, LayerEntry>();
  const destClean = trimSlash(path.posix.normalize(req.dest));
  const destIsDir = req.dest.endsWith('/') || req.sources.length + req.inline.length > 1 || (await req.image.stat(destClean))?.isDirectory() === true;
  const own = (uid: number, gid: number) => (req.chowned ? { uid: req.uid, gid: req.gid } : { uid, gid });
  const mode = (m: number) => (req.chmod !== undefined ? req.chmod : m);
  const now = new Date();
  const ex = req.exclude?.length ? new PatternMatcher(req.exclude) : undefined;
  const excluded = (rel: string) => !!ex && rel !== '' && ex.matches(rel);
  const put = (abs: string, e: Omit<LayerEntry, 'name'>) => {
    const name = abs.replace(/^\/+/, '');
    if (name === '') return;
    out.set(name, { name, ...e });
  };

  const copyTree = async (tree: SourceTree, rel: string, to: string, keepOwner: boolean, shown = ''): Promise<void> => {
    for (const n of await tree.children(rel)) {
      const r = rel ? `${rel}/${n}` : n;
      const sr = shown ? `${shown}/${n}` : n;
      if (excluded(sr)) continue;
      const st = (await tree.lstat(r))!;
      const target = path.posix.join(to, n);
      const o = keepOwner ? own(st.uid, st.gid) : own(0, 0);
      if (st.type === 'dir') {
        put(target, { type: 'dir', mode: mode(st.mode), ...o, mtime: st.mtime });
        await copyTree(tree, r, target, keepOwner, sr);
      } else if (st.type === 'symlink') {
        put(target, { type: 'symlink', mode: 0o777, ...o, mtime: st.mtime, linkname: st.linkname });
      } else if (st.type === 'file') {
        put(target, { type: 'file', mode: mode(st.mode), ...o, mtime: st.mtime, size: st.size, ...(await content(tree, r)) });
      }
    }
  };

  for (const s of req.sources) {
    const real = await resolveFollow(s.tree, s.rel);
    const st = (await s.tree.lstat(real))!;
    if (st.type === 'dir') {
      if (!s.archive) put(destClean, { type: 'dir', mode: mode(st.mode), ...own(0, 0), mtime: st.mtime });
      await copyTree(s.tree, real, destClean, !!s.archive);
    } else if (st.type === 'file') {
      if (excluded(s.rel) || excluded(path.posix.basename(s.rel))) continue;
      const target = destIsDir ? path.posix.join(destClean, path.posix.basename(s.rel)) : destClean;
      put(target, { type: 'file', mode: mode(st.mode), ...own(0, 0), mtime: st.mtime, size: st.size, ...(await content(s.tree, real)) });
    }
  }
  for (const f of req.inline) {
    const target = destIsDir ? path.posix.join(destClean, f.name) : destClean;
    put(target, { type: 'file', mode: mode(f.mode ?? 0o644), ...own(0, 0), mtime: f.mtime ?? now, size: f.data.length, data: f.data });
  }
  await addParents(out, req.image, own(0, 0));
  return out;
}

async function content(tree: SourceTree, rel: string): Promise<{ data: Buffer } | { source: string }> {
  const data = tree.data?.(rel);
  return data ? { data } : { source: await tree.file(rel) };
}

/** Every ancestor of the entries: the image's own directory metadata where it exists. */
export async function addParents(out: Map<string, LayerEntry>, image: ImageFs, owner: { uid: number; gid: number }): Promise<void> {
  for (const name of [...out.keys()]) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (out.has(p)) continue;
      const st = await image.lstat('/' + p);
      if (st?.isDirectory()) out.set(p, { name: p, type: 'dir', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime });
      else out.set(p, { name: p, type: 'dir', mode: 0o755, ...owner, mtime: new Date() });
    }
  }
}
