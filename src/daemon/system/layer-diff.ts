import { constants, promises as fsp, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { runHost } from './host-command.js';

const GETFATTR = '/usr/bin/getfattr';
const OPAQUE_XATTR = 'trusted.overlay.opaque';

// Built loosely and cast: tar-stream's own and DefinitelyTyped's header types disagree.
type TarHeader = { name: string; [k: string]: unknown };

/** A change as dockerd's `/containers/{id}/changes` reports it. */
export interface Change {
  Path: string;
  /** 0 modified, 1 added, 2 deleted */
  Kind: 0 | 1 | 2;
}

export const KIND_MODIFY = 0;
export const KIND_ADD = 1;
export const KIND_DELETE = 2;

/**
 * Mount points the runtime creates in the writable layer (dockerd keeps them
 * in a separate init layer, so they never show in diff or commit): left out
 * while they are empty placeholders.
 */
const RUNTIME_MOUNTPOINTS = new Set([
  '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/proc', '/sys',
  '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv',
]);

async function isPlaceholder(abs: string, rel: string, st: BigIntStats): Promise<boolean> {
  if (!RUNTIME_MOUNTPOINTS.has(rel)) return false;
  if (st.isFile()) return st.size === 0n;
  if (st.isDirectory()) return (await fsp.readdir(abs).catch(() => ['?'])).length === 0;
  return false;
}

/** A directory whose only entries are runtime placeholders: copied up for them, not changed by the user. */
async function onlyPlaceholders(abs: string, rel: string): Promise<boolean> {
  const names = await fsp.readdir(abs).catch(() => [] as string[]);
  if (names.length === 0) return false;
  for (const n of names) {
    const st = await lstatOrUndefined(path.join(abs, n));
    if (!st || !(await isPlaceholder(path.join(abs, n), path.posix.join(rel, n), st))) return false;
  }
  return true;
}

function isWhiteout(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

/** Overlay opaque directories under `upper` (relative paths with a leading `/`), found with one getfattr run. */
export async function opaqueDirs(upper: string): Promise<Set<string>> {
  const out = await runHost(GETFATTR, ['-R', '-P', '--absolute-names', '-m', `^${OPAQUE_XATTR.replace(/\./g, '\\.')}$`, '-d', upper]).catch(
    (e: { message?: string }) => (typeof e.message === 'string' && e.message.includes('No such') ? '' : Promise.reject(e)),
  );
  const dirs = new Set<string>();
  let file: string | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) file = unescapeGetfattr(line.slice(8));
    else if (file && line === `${OPAQUE_XATTR}="y"`) {
      const rel = path.relative(upper, file);
      dirs.add(rel === '' ? '/' : '/' + rel);
    }
  }
  return dirs;
}

/** getfattr writes unusual bytes in file names as `\ooo` octal escapes. */
function unescapeGetfattr(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

async function lstatOrUndefined(p: string): Promise<BigIntStats | undefined> {
  try {
    return await fsp.lstat(p, { bigint: true });
  } catch {
    return undefined;
  }
}

/** First lower layer (nearest first) holding `rel`, skipping none: overlay semantics are applied by the caller. */
async function lowerStat(lowers: string[], rel: string): Promise<BigIntStats | undefined> {
  for (const l of lowers) {
    const st = await lstatOrUndefined(path.join(l, rel));
    if (st) return isWhiteout(st) ? undefined : st;
  }
  return undefined;
}

/** Names visible in the merged lower layers at directory `rel` (whiteouts and opaque dirs of lower layers applied). */
async function lowerNames(lowers: string[], rel: string): Promise<string[]> {
  const seen = new Map<string, boolean>();
  for (const l of lowers) {
    const dir = path.join(l, rel);
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    for (const n of names) {
      if (seen.has(n)) continue;
      const st = await lstatOrUndefined(path.join(dir, n));
      seen.set(n, !!st && !isWhiteout(st));
    }
    const opq = await opaqueDirs(dir).catch(() => new Set<string>());
    if (opq.has('/')) break;
  }
  return [...seen].filter(([, visible]) => visible).map(([n]) => n);
}

/**
 * The container's filesystem changes, as moby's overlay diff computes them:
 * a walk of the upper dir in lexical order; whiteouts are deletions, entries
 * present below are modifications (directories only when their metadata
 * changed), the rest additions; the parent of an addition or deletion is
 * reported modified once.
 */
export async function overlayChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const opaque = await opaqueDirs(upper);
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  const record = (c: Change) => {
    if (c.Kind !== KIND_MODIFY) {
      const parent = path.posix.dirname(c.Path);
      if (parent !== '/' && !changedDirs.has(parent)) {
        changes.push({ Path: parent, Kind: KIND_MODIFY });
        changedDirs.add(parent);
      }
    }
    changes.push(c);
  };
  const walk = async (rel: string): Promise<void> => {
    const names = (await fsp.readdir(path.join(upper, rel)).catch(() => [] as string[])).sort();
    if (opaque.has(rel === '' ? '/' : rel)) {
      // An opaque dir hides everything below it: lower entries not recreated are gone.
      const here = new Set(names);
      for (const n of (await lowerNames(lowers, rel)).sort()) {
        if (!here.has(n)) record({ Path: path.posix.join(rel || '/', n), Kind: KIND_DELETE });
      }
    }
    for (const n of names) {
      const p = path.posix.join(rel || '/', n);
      const st = await lstatOrUndefined(path.join(upper, p));
      if (!st) continue;
      if (isWhiteout(st)) {
        record({ Path: p, Kind: KIND_DELETE });
        continue;
      }
      const abs = path.join(upper, p);
      if (await isPlaceholder(abs, p, st)) continue;
      const below = opaque.has(rel || '/') ? undefined : await lowerStat(lowers, p);
      const copiedUpOnly = () => st.isDirectory() && below!.isDirectory() && st.mode === below!.mode && onlyPlaceholders(abs, p);
      if (!below) record({ Path: p, Kind: KIND_ADD });
      else if (!(st.isDirectory() && below.isDirectory() && sameDir(st, below)) && !(await copiedUpOnly())) {
        if (!changedDirs.has(p)) record({ Path: p, Kind: KIND_MODIFY });
        if (st.isDirectory()) changedDirs.add(p);
      }
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk('');
  return dedupe(changes);
}

function sameDir(a: BigIntStats, b: BigIntStats): boolean {
  return a.size === b.size && a.mode === b.mode && a.mtimeNs === b.mtimeNs;
}

function dedupe(list: Change[]): Change[] {
  const seen = new Set<string>();
  return list.filter((c) => {
    const k = `${c.Kind}:${c.Path}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The upper dir as an OCI layer tar: whiteout devices become `.wh.<name>`
 * entries, opaque directories get a `.wh..wh..opq` entry, hardlinks within the
 * layer are kept. Files are opened with O_NOFOLLOW so a symlink swapped in
 * under us is not followed out of the layer.
 */
export function upperDirTar(upper: string): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  pack.pipe(out);
  void (async () => {
    const opaque = await opaqueDirs(upper);
    const links = new Map<string, string>();
    const entry = (h: TarHeader, body?: Buffer) =>
      new Promise<void>((resolve, reject) => {
        pack.entry(h as unknown as tar.Header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
      });
    const walk = async (rel: string): Promise<void> => {
      const names = (await fsp.readdir(path.join(upper, rel)).catch(() => [] as string[])).sort();
      for (const n of names) {
        const relPath = rel ? `${rel}/${n}` : n;
        const abs = path.join(upper, relPath);
        const st = await fsp.lstat(abs, { bigint: true });
        if (await isPlaceholder(abs, '/' + relPath, st)) continue;
        const base = { uid: Number(st.uid), gid: Number(st.gid), mtime: new Date(Number(st.mtimeMs)), mode: Number(st.mode) & 0o7777 };
        if (isWhiteout(st)) {
          await entry({ ...base, name: rel ? `${rel}/.wh.${n}` : `.wh.${n}`, type: 'file', size: 0, mode: 0o644 });
          continue;
        }
        if (st.isDirectory()) {
          await entry({ ...base, name: relPath + '/', type: 'directory' });
          if (opaque.has('/' + relPath)) await entry({ ...base, name: `${relPath}/.wh..wh..opq`, type: 'file', size: 0, mode: 0o644 });
          await walk(relPath);
          continue;
        }
        if (st.nlink > 1n && !st.isDirectory()) {
          const key = `${st.dev}:${st.ino}`;
          const first = links.get(key);
          if (first) {
            await entry({ ...base, name: relPath, type: 'link', linkname: first, size: 0 });
            continue;
          }
          links.set(key, relPath);
        }
        if (st.isSymbolicLink()) {
          await entry({ ...base, name: relPath, type: 'symlink', linkname: await fsp.readlink(abs) });
        } else if (st.isFile()) {
          const fh = await fsp.open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
          try {
            const size = Number((await fh.stat()).size);
            await new Promise<void>((resolve, reject) => {
              const w = pack.entry({ ...base, name: relPath, type: 'file', size } as unknown as tar.Header, (err) => (err ? reject(err) : resolve()));
              const r = fh.createReadStream({ autoClose: false });
              r.on('error', reject);
              r.pipe(w);
            });
          } finally {
            await fh.close();
          }
        } else if (st.isCharacterDevice() || st.isBlockDevice()) {
          const rdev = Number(st.rdev);
          await entry({
            ...base,
            name: relPath,
            type: st.isCharacterDevice() ? 'character-device' : 'block-device',
            devmajor: (rdev >> 8) & 0xfff,
            devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
          });
        } else if (st.isFIFO()) {
          await entry({ ...base, name: relPath, type: 'fifo' });
        }
        // Sockets are not carried in layers, as docker.
      }
    };
    await walk('');
    pack.finalize();
  })().catch((e: Error) => out.destroy(e));
  return out;
}
