// Where COPY/ADD read from: the build context (through its index) or a directory on disk
// (another stage's or an image's merged filesystem, an unpacked ADD archive), with docker's
// source rules: `..` cannot leave the root, a named symlink is followed inside the root,
// wildcards as Go's filepath.Match.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { cleanInside, type BuildContext } from './build-context.js';

export interface TreeStat {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  size: number;
  mtime: Date;
  uid: number;
  gid: number;
  linkname?: string;
  /** content hash, when the tree knows it without reading */
  hash?: string;
}

export interface SourceTree {
  lstat(rel: string): Promise<TreeStat | undefined>;
  children(rel: string): Promise<string[]>;
  /** the file on disk (reading it, or unpacking it as an archive) */
  file(rel: string): Promise<string>;
  /** a small file's content when the tree holds it in memory */
  data?(rel: string): Buffer | undefined;
}

export function contextTree(ctx: BuildContext): SourceTree {
  return {
    async lstat(rel) {
      const e = ctx.get(rel);
      if (!e) return undefined;
      // files from the context belong to root in the image, as docker makes them
      return { type: e.type, mode: e.mode, size: e.size, mtime: e.mtime, uid: 0, gid: 0, linkname: e.linkname, hash: e.hash };
    },
    async children(rel) {
      return ctx.children(rel);
    },
    file(rel) {
      return ctx.file(rel);
    },
    data(rel) {
      return ctx.get(rel)?.data;
    },
  };
}

export function dirTree(root: string | null): SourceTree {
  return {
    async lstat(rel) {
      if (!root) return rel === '' ? { type: 'dir', mode: 0o755, size: 0, mtime: new Date(0), uid: 0, gid: 0 } : undefined;
      const st = await fsp.lstat(path.join(root, rel)).catch(() => undefined);
      if (!st) return undefined;
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      const linkname = type === 'symlink' ? await fsp.readlink(path.join(root, rel)) : undefined;
      return { type, mode: st.mode & 0o7777, size: st.size, mtime: st.mtime, uid: st.uid, gid: st.gid, linkname };
    },
    async children(rel) {
      if (!root) return [];
      return (await fsp.readdir(path.join(root, rel)).catch(() => [] as string[])).sort();
    },
    async file(rel) {
      return path.join(root ?? '/nonexistent', rel);
    },
  };
}

/** Follows symlinks in every component of `rel`, staying inside the tree. */
export async function resolveFollow(tree: SourceTree, rel: string): Promise<string> {
  let pending = rel.split('/').filter(Boolean);
  let done: string[] = [];
  for (let hops = 0; pending.length > 0; ) {
    const comp = pending.shift()!;
    const cur = [...done, comp].join('/');
    const st = await tree.lstat(cur);
    if (st?.type === 'symlink' && hops++ < 40) {
      const target = st.linkname ?? '';
      const base = target.startsWith('/') ? '' : done.join('/');
      pending = [...cleanInside(base + '/' + target).split('/').filter(Boolean), ...pending];
      done = [];
      continue;
    }
    done.push(comp);
  }
  return done.join('/');
}

export function hasMagic(s: string): boolean {
  return /[*?[\\]/.test(s);
}

/** One path component of Go's filepath.Match pattern as a RegExp. */
function componentRegex(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const j = p.indexOf(']', i + 2);
      if (j < 0) throw new Error('syntax error in pattern');
      let cls = p.slice(i + 1, j);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += '[' + cls.replace(/\\(?!.)/g, '\\\\') + ']';
      i = j;
    } else if (c === '\\' && i + 1 < p.length) re += '\\' + p[++i];
    else re += c.replace(/[.+^${}()|\]\\/]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}

/** Paths in the tree matching a source as written (cleaned inside the root); [] when nothing matches. */
export async function expandSource(tree: SourceTree, src: string): Promise<string[]> {
  const clean = cleanInside(src);
  if (!hasMagic(clean)) return (await tree.lstat(await resolveFollow(tree, clean))) ? [clean] : [];
  let cur = [''];
  for (const comp of clean.split('/')) {
    const next: string[] = [];
    if (hasMagic(comp)) {
      const re = componentRegex(comp);
      for (const base of cur) {
        const dir = await resolveFollow(tree, base);
        for (const n of await tree.children(dir)) if (re.test(n)) next.push(base ? `${base}/${n}` : n);
      }
    } else {
      for (const base of cur) next.push(base ? `${base}/${comp}` : comp);
    }
    cur = next;
  }
  const out: string[] = [];
  for (const p of cur) if (await tree.lstat(await resolveFollow(tree, p))) out.push(p);
  return out;
}
