// The client half of docker cp's copy rules (moby pkg/archive copy.go):
// where a copy lands, how archive entries are renamed to get there, packing a
// local path and unpacking an archive from a container onto the host.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { StatusError } from './flags.js';

type TarHeader = Partial<tar.Header> & { name: string };

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName?: string;
}

/** Local paths are made absolute, keeping a trailing "/" or "/." (they change the copy's meaning). */
export function resolveLocalPath(p: string): string {
  const abs = path.resolve(p);
  if (p.endsWith('/.') || p === '.') return abs === '/' ? '/.' : abs + '/.';
  if (p.endsWith('/') && abs !== '/') return abs + '/';
  return abs;
}

export const assertsDirectory = (p: string) => p.endsWith('/') || p.endsWith('/.') || p === '.';

/** docker's SplitPathDirEntry: a trailing "/." names the directory's contents as ".". */
export function splitPathDirEntry(p: string): [string, string] {
  let clean = path.posix.normalize(p);
  if (clean.length > 1 && clean.endsWith('/')) clean = clean.slice(0, -1);
  if (p.endsWith('/.') || p === '.') clean = (clean === '/' ? '' : clean) + '/.';
  return [path.posix.dirname(clean), path.posix.basename(clean)];
}

/** The base name the copy must keep when a followed symlink leads elsewhere. */
export function rebaseName(orig: string, resolved: string): [string, string | undefined] {
  if (orig.endsWith('/.') && !resolved.endsWith('/.')) resolved += '/.';
  else if (orig.endsWith('/') && !resolved.endsWith('/')) resolved += '/';
  const ob = path.posix.basename(orig);
  const rb = path.posix.basename(resolved);
  return [resolved, ob !== rb ? ob : undefined];
}

/** Rewrites the first component of each entry from `oldBase` to `newBase`. */
export function rebaseEntries(input: Readable, oldBase: string, newBase: string): Readable {
  const swap = (name: string): string => {
    const n = name.replace(/^\/+/, '');
    if (oldBase === '.' && !(n === '.' || n === './' || n.startsWith('./'))) return `${newBase}/${n}`;
    if (n === oldBase || n === oldBase + '/') return newBase + (n.endsWith('/') ? '/' : '');
    if (n.startsWith(oldBase + '/')) return newBase + n.slice(oldBase.length);
    return n;
  };
  const extract = tar.extract();
  const pack = tar.pack();
  extract.on('entry', (h, stream, next) => {
    const nh: TarHeader = { ...h, name: swap(h.name) };
    if (h.type === 'link' && h.linkname) nh.linkname = swap(h.linkname);
    const sink = pack.entry(nh, (e) => next(e ?? undefined)) as unknown as NodeJS.WritableStream;
    stream.pipe(sink as never);
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', (e: Error) => pack.destroy(e));
  input.on('error', (e) => pack.destroy(e));
  input.pipe(extract as unknown as NodeJS.WritableStream);
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/**
 * docker's PrepareArchiveCopy: which directory to extract into, and how the
 * archive's entries must be renamed so the copy lands at the destination.
 */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dir: string; rebase?: [string, string] } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dir: dst.path };
  if (dst.exists && src.isDir) throw new StatusError('cannot copy directory', 1);
  if (!dst.exists && assertsDirectory(dst.path) && !src.isDir) throw new StatusError('no such directory', 1);
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dir: dstDir, rebase: [srcBase, dstBase] };
}

/** Follows symlinks of a local destination, as CopyInfoDestinationPath does. */
export function localDestInfo(p: string): CopyInfo {
  let cur = p;
  for (let i = 0; i < 40; i++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch {
      const parent = path.dirname(cur.replace(/\/\.?$/, ''));
      if (!fs.existsSync(parent)) throw new StatusError(`lstat ${parent}: no such file or directory`, 1);
      return { path: cur, exists: false, isDir: false };
    }
    if (!st.isSymbolicLink()) return { path: cur, exists: true, isDir: st.isDirectory() };
    const t = fs.readlinkSync(cur);
    cur = path.isAbsolute(t) ? t : path.join(path.dirname(cur), t);
  }
  throw new StatusError(`too many symlinks in ${p}`, 1);
}

/** CopyInfoSourcePath: the directory part resolved, the last component kept unless following links. */
export function localSourceInfo(p: string, follow: boolean): CopyInfo {
  let resolved: string;
  let rebase: string | undefined;
  try {
    if (follow) {
      [resolved, rebase] = rebaseName(p, fs.realpathSync(p));
    } else {
      const [dir, base] = splitPathDirEntry(p);
      resolved = base === '.' ? fs.realpathSync(dir) + '/.' : path.join(fs.realpathSync(dir), base);
    }
    const st = fs.lstatSync(resolved);
    return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName: rebase };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StatusError(`lstat ${p.replace(/\/\.?$/, '')}: no such file or directory`, 1);
    throw e;
  }
}

/**
 * A tar of a local path with the top entry named after its base (or "." for
 * "dir/."). Like docker's client it records the local uid/gid; the daemon
 * decides what ownership the copy gets (with `-a`, the container's user).
 */
export function packLocal(src: CopyInfo): Readable {
  const pack = tar.pack();
  const [dir, base] = splitPathDirEntry(src.path);
  const top = src.rebaseName ?? base;
  const links = new Map<string, string>();
  const hdr = (name: string, st: fs.Stats): TarHeader => ({
    name,
    mode: st.mode & 0o7777,
    mtime: st.mtime,
    uid: st.uid,
    gid: st.gid,
  });
  const add = async (abs: string, name: string): Promise<void> => {
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) {
      await entry(pack, { ...hdr(name + '/', st), type: 'directory' });
      for (const c of fs.readdirSync(abs).sort()) await add(path.join(abs, c), `${name}/${c}`);
    } else if (st.isSymbolicLink()) {
      await entry(pack, { ...hdr(name, st), type: 'symlink', linkname: fs.readlinkSync(abs) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && links.has(key)) {
        await entry(pack, { ...hdr(name, st), type: 'link', linkname: links.get(key)! });
        return;
      }
      if (st.nlink > 1) links.set(key, name);
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry({ ...hdr(name, st), type: 'file', size: st.size }, (e) => (e ? reject(e) : resolve())) as unknown as NodeJS.WritableStream;
        const rs = fs.createReadStream(abs, { start: 0, end: Math.max(0, st.size - 1) });
        if (st.size === 0) {
          rs.destroy();
          sink.end();
        } else rs.pipe(sink as never);
        rs.on('error', reject);
      });
    }
  };
  const root = base === '.' ? dir : path.join(dir, base);
  void add(root, top === '.' ? '.' : top)
    .then(() => pack.finalize())
    .catch((e) => pack.destroy(e as Error));
  return Readable.from(pack as AsyncIterable<Buffer>);
}

function entry(pack: tar.Pack, h: TarHeader): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(h, Buffer.alloc(0), (e) => (e ? reject(e) : resolve())));
}

/**
 * Unpacks an archive that came out of a container into `dir` on the host.
 * The archive is not trusted (CVE-2019-14271): names are cleaned, nothing is
 * written through a symlink or outside `dir`, hard links only point inside it.
 * Ownership is the invoking user's (docker's NoLchown); an existing directory
 * is never replaced by a file or the other way round.
 */
export async function unpackLocal(input: Readable, dir: string): Promise<void> {
  const extract = tar.extract();
  const realDir = fs.realpathSync(dir);
  const dirTimes: Array<[string, Date]> = [];
  const clean = (name: string): string => {
    const parts: string[] = [];
    for (const c of name.split('/')) {
      if (c === '' || c === '.') continue;
      if (c === '..') throw new StatusError(`invalid archive entry ${JSON.stringify(name)}: outside of the destination`, 1);
      parts.push(c);
    }
    return parts.join('/');
  };
  // Every parent must be a real directory below realDir (not a symlink the archive planted).
  const safeParent = (rel: string): string => {
    let cur = realDir;
    for (const c of rel.split('/').slice(0, -1)) {
      cur = path.join(cur, c);
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(cur);
      } catch {
        fs.mkdirSync(cur, { mode: 0o755 });
        continue;
      }
      if (!st.isDirectory()) throw new StatusError(`cannot extract ${rel}: ${path.relative(realDir, cur)} is not a directory`, 1);
    }
    return cur;
  };
  const handle = async (h: tar.Header, stream: Readable): Promise<void> => {
    const rel = clean(h.name);
    const target = rel ? path.join(realDir, rel) : realDir;
    if (rel) safeParent(rel);
    let existing: fs.Stats | undefined;
    try {
      existing = fs.lstatSync(target);
    } catch {
      existing = undefined;
    }
    const isDirEntry = h.type === 'directory';
    if (existing) {
      if (existing.isDirectory() && !isDirEntry) throw new StatusError(`cannot overwrite directory "${target}" with non-directory "${h.name}"`, 1);
      if (!existing.isDirectory() && isDirEntry) throw new StatusError(`cannot overwrite non-directory "${target}" with directory "${h.name}"`, 1);
      if (!isDirEntry) fs.unlinkSync(target);
    }
    const mode = h.mode & 0o7777;
    switch (h.type) {
      case 'directory':
        if (!existing) fs.mkdirSync(target, { mode: 0o700 });
        fs.chmodSync(target, mode);
        dirTimes.push([target, h.mtime]);
        return;
      case 'file':
      case 'contiguous-file': {
        const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        try {
          for await (const c of stream) {
            const b = c as Buffer;
            for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off);
          }
          fs.fchmodSync(fd, mode);
        } finally {
          fs.closeSync(fd);
        }
        fs.utimesSync(target, h.mtime, h.mtime);
        return;
      }
      case 'symlink':
        fs.symlinkSync(h.linkname ?? '', target);
        fs.lutimesSync(target, h.mtime, h.mtime);
        return;
      case 'link': {
        const src = clean(h.linkname ?? '');
        fs.linkSync(path.join(safeParent(src), path.basename(src)), target);
        return;
      }
      default:
        // Devices and fifos need privileges docker's client does not assume either.
        return;
    }
  };
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      let ended = false;
      stream.on('end', () => (ended = true));
      handle(h, stream as unknown as Readable).then(
        () => {
          if (ended) next();
          else {
            stream.on('end', () => next());
            stream.resume();
          }
        },
        (e) => {
          reject(e);
          extract.destroy();
        },
      );
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    input.on('error', reject);
    input.pipe(extract as unknown as NodeJS.WritableStream);
  });
  for (const [d, t] of dirTimes.reverse()) fs.utimesSync(d, t, t);
}
