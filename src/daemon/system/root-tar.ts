// Tar streams to and from a directory tree inside a container root, always
// through the fd-relative, no-follow operations of root-fs.ts.
import fs from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import {
  RootFs,
  createFileAt,
  lchownAt,
  linkAt,
  lstatAt,
  lutimesAt,
  mkdirAt,
  openDirAt,
  openFileAt,
  readdirFd,
  readlinkAt,
  removeAt,
  symlinkAt,
  self,
} from './root-fs.js';

const CHUNK = 256 * 1024;

type TarHeader = Partial<tar.Header> & { name: string };

export class ArchiveError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A destroyed pack (the client went away) may never call back: every wait in
 * the walk also ends when `signal` aborts, so a stopped container's lock and
 * mount are released.
 */
function guard<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('archive aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('archive aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

interface PackCtx {
  pack: tar.Pack;
  signal: AbortSignal;
  /** dev:ino of files with several links -> the name they were first archived under */
  links: Map<string, string>;
}

function entry(x: PackCtx, h: TarHeader): Promise<void> {
  return guard(new Promise((resolve, reject) => x.pack.entry(h, Buffer.alloc(0), (e) => (e ? reject(e) : resolve()))), x.signal);
}

function baseHeader(name: string, st: fs.Stats): TarHeader {
  return { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
}

/**
 * Packs one object and, for a directory, everything below it. `name` is the
 * object's name in the archive (docker's rebase name: the base name of the
 * path the user gave, or "." for `dir/.`). `parentFd`/`base` name the object
 * when it may be a symlink (kept as a symlink); `selfFd` when the object is an
 * already-resolved directory.
 */
export async function packTree(
  pack: tar.Pack,
  name: string,
  at: { parentFd: number; base: string } | { selfFd: number },
  signal: AbortSignal,
): Promise<void> {
  const x: PackCtx = { pack, signal, links: new Map() };
  if ('selfFd' in at) await packDir(x, name, at.selfFd, fs.fstatSync(at.selfFd));
  else await packEntry(x, name, at.parentFd, at.base);
  pack.finalize();
}

async function packEntry(x: PackCtx, name: string, dirFd: number, base: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = await lstatAt(dirFd, base);
  } catch (e) {
    // Gone since we listed it: a live container changes under us, as with docker.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (st.isDirectory()) {
    let fd: number;
    try {
      fd = openDirAt(dirFd, base);
    } catch {
      return; // replaced by something else meanwhile
    }
    try {
      await packDir(x, name, fd, fs.fstatSync(fd));
    } finally {
      fs.closeSync(fd);
    }
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? x.links.get(key) : undefined;
    if (first !== undefined) {
      await entry(x, { ...baseHeader(name, st), type: 'link', linkname: first, size: 0 });
      return;
    }
    let fd: number;
    try {
      fd = openFileAt(dirFd, base);
    } catch {
      return;
    }
    try {
      const fst = fs.fstatSync(fd);
      if (!fst.isFile()) return;
      if (fst.nlink > 1) x.links.set(key, name);
      await packFile(x, name, fd, fst);
    } finally {
      fs.closeSync(fd);
    }
  } else if (st.isSymbolicLink()) {
    await entry(x, { ...baseHeader(name, st), type: 'symlink', linkname: await readlinkAt(dirFd, base) });
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    const rdev = st.rdev;
    await entry(x, {
      ...baseHeader(name, st),
      type: st.isCharacterDevice() ? 'character-device' : 'block-device',
      devmajor: Math.floor(rdev / 256) & 0xfff,
      devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
    });
  } else if (st.isFIFO()) {
    await entry(x, { ...baseHeader(name, st), type: 'fifo' });
  }
  // Sockets are not archived (as docker's tar).
}

async function packDir(x: PackCtx, name: string, fd: number, st: fs.Stats): Promise<void> {
  await entry(x, { ...baseHeader(name.endsWith('/') ? name : name + '/', st), type: 'directory' });
  const children = (await readdirFd(fd)).sort();
  const prefix = name === '/' ? '' : name.replace(/\/$/, '') + '/';
  for (const c of children) await packEntry(x, prefix + c, fd, c);
}

/** Exactly `st.size` bytes: a file that shrinks meanwhile is padded, one that grows is cut, so the archive stays valid. */
async function packFile(x: PackCtx, name: string, fd: number, st: fs.Stats): Promise<void> {
  let done!: () => void;
  let fail!: (e: Error) => void;
  const finished = new Promise<void>((res, rej) => ((done = res), (fail = rej)));
  // streamx's Writable, driven as a Node one.
  const sink = x.pack.entry({ ...baseHeader(name, st), type: 'file', size: st.size }, (e) => (e ? fail(e) : done())) as unknown as NodeJS.WritableStream;
  let left = st.size;
  let pos = 0;
  while (left > 0) {
    const buf = Buffer.alloc(Math.min(CHUNK, left));
    const n = await new Promise<number>((res, rej) => fs.read(fd, buf, 0, buf.length, pos, (e, n) => (e ? rej(e) : res(n))));
    const chunk = n === 0 ? buf : buf.subarray(0, n);
    pos += chunk.length;
    left -= chunk.length;
    if (!sink.write(chunk)) await guard(once(sink as never, 'drain'), x.signal);
  }
  sink.end();
  await guard(finished, x.signal);
}

export interface UnpackOptions {
  noOverwriteDirNonDir: boolean;
  /** Owner for everything created; undefined keeps the archive's uid/gid. */
  chown?: { uid: number; gid: number };
  /** Where `dirFd` is in the container, to resolve paths that go through a symlink (inside the root). */
  containerPath: string;
  log: (msg: string) => void;
}

/** Clean archive path components; rejects anything that climbs out of the extraction directory. */
function components(name: string): string[] {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw new ArchiveError(400, `invalid archive: ${JSON.stringify(name)} is outside of the extraction directory`);
      out.pop();
      continue;
    }
    out.push(c);
  }
  return out;
}

/**
 * Unpacks a tar into the open directory `dirFd`, with dockerd's overwrite
 * rules. Parent directories are reached one component at a time without
 * following symlinks; a parent that is a symlink (the container's own
 * `/var/run -> /run`, or one the archive just made) is resolved again by the
 * kernel inside the container root, never on the host.
 */
export async function unpackTree(root: RootFs, dirFd: number, input: Readable, o: UnpackOptions): Promise<void> {
  const extract = tar.extract();
  const dirs = new Map<string, number>(); // rel dir path -> fd
  const dirTimes: Array<{ rel: string[]; mtime: Date }> = [];
  const openParent = async (parts: string[], create: boolean): Promise<number> => {
    const key = parts.join('/');
    if (parts.length === 0) return dirFd;
    const hit = dirs.get(key);
    if (hit !== undefined) return hit;
    const parent = await openParent(parts.slice(0, -1), create);
    const name = parts[parts.length - 1]!;
    let fd: number;
    try {
      fd = openDirAt(parent, name);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && create) {
        await mkdirAt(parent, name, 0o755);
        fd = openDirAt(parent, name);
      } else if (code === 'ELOOP' || code === 'ENOTDIR') {
        const r = await root.resolve(`${o.containerPath}/${key}`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY).catch(() => {
          throw new ArchiveError(400, `cannot extract ${key}: not a directory`);
        });
        fd = r.fd;
      } else throw e;
    }
    dirs.set(key, fd);
    return fd;
  };
  const owner = (h: TarHeader) => o.chown ?? { uid: h.uid ?? 0, gid: h.gid ?? 0 };

  const forget = (key: string) => {
    for (const [k, fd] of [...dirs]) {
      if (key === '' || k === key || k.startsWith(key + '/')) {
        fs.closeSync(fd);
        dirs.delete(k);
      }
    }
  };
  const handle = async (h: TarHeader, stream: Readable): Promise<void> => {
    // Between entries no cached fd is in use: bound how many stay open.
    if (dirs.size > 256) forget('');
    const parts = components(h.name);
    const type = h.type ?? 'file';
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ?? new Date();
    if (parts.length === 0) {
      // "./": the extraction directory itself takes the entry's metadata.
      if (type === 'directory') {
        const { uid, gid } = owner(h);
        fs.fchownSync(dirFd, uid, gid);
        fs.fchmodSync(dirFd, mode);
        dirTimes.push({ rel: [], mtime });
      }
      return;
    }
    const parentFd = await openParent(parts.slice(0, -1), true);
    const name = parts[parts.length - 1]!;
    let existing: fs.Stats | undefined;
    try {
      existing = await lstatAt(parentFd, name);
    } catch {
      existing = undefined;
    }
    if (existing) {
      const isDir = existing.isDirectory();
      if (o.noOverwriteDirNonDir && isDir && type !== 'directory') {
        throw new ArchiveError(400, `cannot overwrite directory "${o.containerPath}/${parts.join('/')}" with non-directory`);
      }
      if (o.noOverwriteDirNonDir && !isDir && type === 'directory') {
        throw new ArchiveError(400, `cannot overwrite non-directory "${o.containerPath}/${parts.join('/')}" with directory`);
      }
      if (!(isDir && type === 'directory')) {
        forget(parts.join('/'));
        await removeAt(parentFd, name);
      }
    }
    const { uid, gid } = owner(h);
    switch (type) {
      case 'directory': {
        if (!existing?.isDirectory()) await mkdirAt(parentFd, name, 0o700);
        const fd = openDirAt(parentFd, name);
        try {
          fs.fchownSync(fd, uid, gid);
          fs.fchmodSync(fd, mode);
        } finally {
          fs.closeSync(fd);
        }
        dirTimes.push({ rel: parts, mtime });
        return;
      }
      case 'file':
      case 'contiguous-file': {
        const fd = createFileAt(parentFd, name, 0o600);
        try {
          for await (const chunk of stream) {
            const b = chunk as Buffer;
            for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off);
          }
          // chown first: it clears set-id bits that chmod then restores.
          fs.fchownSync(fd, uid, gid);
          fs.fchmodSync(fd, mode);
          fs.futimesSync(fd, mtime, mtime);
        } finally {
          fs.closeSync(fd);
        }
        return;
      }
      case 'symlink':
        await symlinkAt(parentFd, name, h.linkname ?? '');
        await lchownAt(parentFd, name, uid, gid);
        await lutimesAt(parentFd, name, mtime, mtime);
        return;
      case 'link': {
        const target = components(h.linkname ?? '');
        if (target.length === 0) throw new ArchiveError(400, `invalid hard link ${h.name}`);
        const srcParent = await openParent(target.slice(0, -1), false);
        await linkAt(srcParent, target[target.length - 1]!, parentFd, name);
        return;
      }
      default:
        // Devices, fifos: Node cannot mknod through a directory fd; skipped rather than made by a host path.
        o.log(`archive: skipping ${type} ${h.name}`);
    }
  };

  try {
    await new Promise<void>((resolve, reject) => {
      extract.on('entry', (h, stream, next) => {
        let ended = false;
        stream.on('end', () => (ended = true));
        handle(h, stream as unknown as Readable)
          .then(() => {
            if (ended) next();
            else {
              stream.on('end', () => next());
              stream.resume();
            }
          })
          .catch((e) => {
            stream.resume();
            reject(e);
            extract.destroy();
          });
      });
      extract.on('finish', resolve);
      extract.on('error', (e) => reject(new ArchiveError(400, `invalid tar archive: ${e.message}`)));
      input.on('error', reject);
      input.pipe(extract as unknown as NodeJS.WritableStream);
    });
    // Directory times last: creating their contents changed them.
    for (const d of dirTimes.reverse()) {
      const parent = await openParent(d.rel.slice(0, -1), false).catch(() => undefined);
      if (parent === undefined) continue;
      if (d.rel.length === 0) fs.futimesSync(dirFd, d.mtime, d.mtime);
      else await lutimesAt(parent, d.rel[d.rel.length - 1]!, d.mtime, d.mtime).catch(() => undefined);
    }
  } finally {
    for (const fd of dirs.values()) fs.closeSync(fd);
  }
}

export { self };
