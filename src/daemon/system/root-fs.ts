// Path-safe access to a container's root filesystem.
//
// Node has no openat/openat2, so nothing here resolves a multi-component path
// in a container root itself. The one multi-component lookup (the path the user
// named) is done by the kernel in `berth-fsop` with openat2(RESOLVE_IN_ROOT),
// which lends us the resulting fd. Below that fd we only ever touch one
// component at a time through `/proc/self/fd/<fd>/<name>`: the prefix is a
// magic link to the already-open directory, and every call used on it either
// does not follow a final symlink (lstat, lchown, lutimes, mkdir, symlink,
// link, unlink, rmdir, readlink) or is an open with O_NOFOLLOW. That is
// openat(dirfd, name, O_NOFOLLOW), so a container process swapping a
// directory for a symlink mid-copy cannot steer us out of its root.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Built by scripts/setup.sh; called by absolute path, never through PATH. */
export const FSOP_HELPER = path.isAbsolute(process.env.BERTH_FSOP_HELPER ?? '')
  ? process.env.BERTH_FSOP_HELPER!
  : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../dist/native/berth-fsop');

const O_PATH = 0o10000000;
const { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = fs.constants;

export class RootFsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const ERRNO: Record<number, string> = { 2: 'ENOENT', 20: 'ENOTDIR', 40: 'ELOOP', 13: 'EACCES', 18: 'EXDEV', 36: 'ENAMETOOLONG' };

export interface Resolved {
  /** An fd (ours) for the object the path names. */
  fd: number;
  /** Where it is, as a path inside the container. */
  containerPath: string;
}

/** One component under an open directory: the openat() emulation described above. */
export function at(dirFd: number, name: string): string {
  if (!name || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new RootFsError('EINVAL', `invalid path component: ${JSON.stringify(name)}`);
  }
  return `/proc/self/fd/${dirFd}/${name}`;
}

/** The open directory itself (for fstat-like calls by path). */
export function self(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/**
 * A container root: a directory fd for `/proc/<pid>/root` of a running
 * container, or for a private mount of a stopped one's overlay.
 */
export class RootFs {
  private constructor(readonly rootFd: number) {}

  static async open(rootDir: string): Promise<RootFs> {
    // A raw fd, not a FileHandle: a FileHandle closes its fd when collected.
    return new RootFs(fs.openSync(rootDir, O_RDONLY | O_DIRECTORY));
  }

  /** Root of the running process `pid`, checked to still be the child of `parentPid` through the same pinned /proc entry. */
  static async openProcessRoot(pid: number, parentPid: number): Promise<RootFs> {
    // An open /proc/<pid> stays bound to that process: if it exits and the pid
    // is reused, lookups through the fd fail instead of reaching the new process.
    const procFd = fs.openSync(`/proc/${pid}`, O_RDONLY | O_DIRECTORY);
    try {
      const stat = fs.readFileSync(`${self(procFd)}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parentPid && ppid !== parentPid) throw new RootFsError('ESRCH', `process ${pid} is not the container's`);
      return new RootFs(fs.openSync(`${self(procFd)}/root`, O_RDONLY | O_DIRECTORY));
    } finally {
      fs.closeSync(procFd);
    }
  }

  close(): void {
    fs.closeSync(this.rootFd);
  }

  /**
   * Resolves `p` (a container path, every symlink followed inside the root)
   * and opens it with `flags` (O_NOFOLLOW is meaningless here: the kernel
   * already resolved the last component inside the root).
   */
  resolve(p: string, flags: number = O_RDONLY): Promise<Resolved> {
    return new Promise((resolve, reject) => {
      const child = spawn(FSOP_HELPER, [p || '/'], { stdio: ['pipe', 'pipe', 'pipe', this.rootFd] });
      let out = '';
      let err = '';
      let done = false;
      const finish = (e: Error | undefined, r?: Resolved) => {
        if (done) return;
        done = true;
        child.stdin!.end();
        if (e) reject(e);
        else resolve(r!);
      };
      child.on('error', (e) => finish(new RootFsError('EHELPER', `cannot run ${FSOP_HELPER} (built by scripts/setup.sh): ${e.message}`)));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl < 0) return;
        const line = out.slice(0, nl);
        const m = /^ok (\d+) (.*)$/.exec(line);
        if (m) {
          try {
            const fd = fs.openSync(`/proc/${child.pid}/fd/${m[1]}`, flags);
            finish(undefined, { fd, containerPath: m[2]! });
          } catch (e) {
            finish(e as Error);
          }
          return;
        }
        const em = /^err (\d+) (.*)$/.exec(line);
        if (em) finish(new RootFsError(ERRNO[Number(em[1])] ?? `E${em[1]}`, em[2]!));
        else finish(new RootFsError('EHELPER', `berth-fsop: ${line}`));
      });
      child.on('close', (code) => finish(new RootFsError('EHELPER', `berth-fsop exited with ${code}: ${err.trim()}`)));
    });
  }
}

// ---- one-component operations under an open directory ----------------------

export const lstatAt = (dirFd: number, name: string) => fs.promises.lstat(at(dirFd, name), { bigint: false });
export const readlinkAt = (dirFd: number, name: string) => fs.promises.readlink(at(dirFd, name));

export function openDirAt(dirFd: number, name: string): number {
  return fs.openSync(at(dirFd, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}

export function openFileAt(dirFd: number, name: string): number {
  return fs.openSync(at(dirFd, name), O_RDONLY | O_NOFOLLOW);
}

/** A new regular file; fails on anything already there (the caller removes what it replaces). */
export function createFileAt(dirFd: number, name: string, mode: number): number {
  return fs.openSync(at(dirFd, name), O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW, mode);
}

export const mkdirAt = (dirFd: number, name: string, mode: number) => fs.promises.mkdir(at(dirFd, name), { mode });
export const symlinkAt = (dirFd: number, name: string, target: string) => fs.promises.symlink(target, at(dirFd, name));
/** link(2) does not follow a symlink named as its source. */
export const linkAt = (srcDirFd: number, srcName: string, dirFd: number, name: string) => fs.promises.link(at(srcDirFd, srcName), at(dirFd, name));
export const lchownAt = (dirFd: number, name: string, uid: number, gid: number) => fs.promises.lchown(at(dirFd, name), uid, gid);
export const lutimesAt = (dirFd: number, name: string, atime: Date, mtime: Date) => fs.promises.lutimes(at(dirFd, name), atime, mtime);
export const readdirFd = (dirFd: number) => fs.promises.readdir(self(dirFd));

/** Removes `name` (a whole tree if it is a directory) without following symlinks. */
export async function removeAt(dirFd: number, name: string): Promise<void> {
  const st = await lstatAt(dirFd, name);
  if (!st.isDirectory()) {
    await fs.promises.unlink(at(dirFd, name));
    return;
  }
  const fd = openDirAt(dirFd, name);
  try {
    for (const child of await readdirFd(fd)) await removeAt(fd, child);
  } finally {
    fs.closeSync(fd);
  }
  await fs.promises.rmdir(at(dirFd, name));
}

export { O_PATH };
