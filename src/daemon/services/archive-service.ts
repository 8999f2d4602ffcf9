// docker cp's daemon side: stat, archive and extract a path inside a
// container's root. Every path the client names is resolved by the kernel
// inside that root (see system/root-fs.ts for how and why), for running and
// stopped containers alike.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import tar from 'tar-stream';
import { ApiError, badRequest, notFound, serverError, errorMessage } from '../errors.js';
import type { ContainerService } from './container-service.js';
import { RootFs, RootFsError, lstatAt, readlinkAt } from '../system/root-fs.js';
import { ArchiveError, packTree, unpackTree } from '../system/root-tar.js';
import { decompress } from '../system/layer-extract.js';
import { getExecUser } from '../system/user-lookup.js';
import { GO_CHARDEV, GO_DEVICE, GO_DIR, GO_PIPE, GO_SETGID, GO_SETUID, GO_SOCKET, GO_STICKY, GO_SYMLINK, type PathStat } from '../../common/path-stat.js';

export type { PathStat };

export function goFileMode(st: fs.Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m += GO_SETUID;
  if (st.mode & 0o2000) m += GO_SETGID;
  if (st.mode & 0o1000) m += GO_STICKY;
  if (st.isDirectory()) m += GO_DIR;
  else if (st.isSymbolicLink()) m += GO_SYMLINK;
  else if (st.isFIFO()) m += GO_PIPE;
  else if (st.isSocket()) m += GO_SOCKET;
  else if (st.isCharacterDevice()) m += GO_DEVICE + GO_CHARDEV;
  else if (st.isBlockDevice()) m += GO_DEVICE;
  return m;
}

/**
 * A container path split as dockerd's ResolvePath does: the directory part is
 * resolved fully (symlinks followed, inside the root); the last component is
 * looked at as it is (a symlink stays a symlink), unless the path ends in "/"
 * or "/." which asks for the directory itself.
 */
export interface SplitPath {
  /** The cleaned absolute path, with a trailing "/" or "/." kept (docker's PreserveTrailingDotOrSeparator). */
  abs: string;
  dir: string;
  /** undefined: the object is `dir` itself. */
  base?: string;
  /** The name the object takes in stat and archive (filepath.Base of abs). */
  name: string;
}

export function splitContainerPath(p: string): SplitPath {
  let clean = path.posix.normalize('/' + p);
  if (clean.length > 1 && clean.endsWith('/')) clean = clean.slice(0, -1);
  const dotted = p === '.' || p.endsWith('/.');
  const slashed = !dotted && p.endsWith('/');
  if (clean === '/') return { abs: dotted ? '/.' : '/', dir: '/', name: dotted ? '.' : '/' };
  if (dotted) return { abs: clean + '/.', dir: clean, name: '.' };
  if (slashed) return { abs: clean + '/', dir: clean, name: path.posix.basename(clean) };
  return { abs: clean, dir: path.posix.dirname(clean), base: path.posix.basename(clean), name: path.posix.basename(clean) };
}

export class ArchiveService {
  constructor(
    private containers: ContainerService,
    private log: (level: string, msg: string) => void,
  ) {}

  /** Opens the container's root for the duration of `fn`. */
  private async inRoot<T>(ref: string, fn: (root: RootFs) => Promise<T>): Promise<T> {
    return this.containers.withRoot(ref, async (r) => {
      let root: RootFs;
      try {
        root = r.kind === 'process' ? await RootFs.openProcessRoot(r.pid, r.parentPid) : await RootFs.open(r.dir);
      } catch (e) {
        throw serverError(`cannot enter the root of container ${ref}: ${errorMessage(e)}`);
      }
      try {
        return await fn(root);
      } finally {
        root.close();
      }
    });
  }

  private notFound(ref: string, p: string): ApiError {
    return notFound(`Could not find the file ${p} in container ${ref}`);
  }

  private mapError(e: unknown, ref: string, p: string): unknown {
    if (e instanceof RootFsError || (e as NodeJS.ErrnoException)?.code) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT') return this.notFound(ref, p);
      if (code === 'ENOTDIR') return badRequest(`not a directory`);
      if (code === 'EHELPER') return serverError(errorMessage(e));
      return serverError(`${p}: ${errorMessage(e)}`);
    }
    if (e instanceof ArchiveError) return new ApiError(e.status, e.message);
    return e;
  }

  /** Opens the directory part of `sp`; the caller closes the fd. */
  private async openDir(root: RootFs, sp: SplitPath): Promise<{ fd: number; containerPath: string }> {
    return root.resolve(sp.dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  }

  private async statIn(root: RootFs, sp: SplitPath): Promise<{ st: PathStat; dirFd: number; dirPath: string }> {
    const d = await this.openDir(root, sp);
    try {
      const st = sp.base === undefined ? fs.fstatSync(d.fd) : await lstatAt(d.fd, sp.base);
      let linkTarget = '';
      if (st.isSymbolicLink()) {
        const full = path.posix.join(d.containerPath, sp.base!);
        linkTarget = await root
          .resolve(full, 0o10000000 /* O_PATH */)
          .then((r) => (fs.closeSync(r.fd), r.containerPath))
          .catch(async () => {
            // Dangling: where it would point, lexically, as dockerd reports it.
            const t = await readlinkAt(d.fd, sp.base!);
            return path.posix.isAbsolute(t) ? path.posix.normalize(t) : path.posix.join(d.containerPath, t);
          });
      }
      return {
        st: { name: sp.name, size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget },
        dirFd: d.fd,
        dirPath: d.containerPath,
      };
    } catch (e) {
      fs.closeSync(d.fd);
      throw e;
    }
  }

  async stat(ref: string, p: string): Promise<PathStat> {
    this.containers.archiveInfo(ref);
    if (!p) throw badRequest('path must not be empty');
    const sp = splitContainerPath(p);
    try {
      return await this.inRoot(ref, async (root) => {
        const r = await this.statIn(root, sp);
        fs.closeSync(r.dirFd);
        return r.st;
      });
    } catch (e) {
      throw this.mapError(e, ref, p);
    }
  }

  /**
   * Streams a tar of `p`. `start` gets the stat (for the header) and returns
   * where the tar goes; it is called only once the path is known to exist, so
   * errors before that still become a proper error response.
   */
  async archive(ref: string, p: string, start: (st: PathStat) => Writable): Promise<void> {
    this.containers.archiveInfo(ref);
    if (!p) throw badRequest('path must not be empty');
    const sp = splitContainerPath(p);
    let out: Writable | undefined;
    const abort = new AbortController();
    try {
      await this.inRoot(ref, async (root) => {
        const { st, dirFd } = await this.statIn(root, sp);
        try {
          out = start(st);
          const pack = tar.pack();
          let finished = false;
          const done = new Promise<void>((resolve, reject) => {
            pack.on('error', reject);
            out!.on('error', reject);
            out!.on('finish', () => ((finished = true), resolve()));
            out!.on('close', () => {
              // The client went away mid-archive (docker's CLI does when the copy cannot land).
              if (!finished) abort.abort();
              resolve();
            });
          });
          pack.pipe(out);
          await packTree(pack, sp.name === '/' ? '.' : sp.name, sp.base === undefined ? { selfFd: dirFd } : { parentFd: dirFd, base: sp.base }, abort.signal);
          await done;
        } finally {
          fs.closeSync(dirFd);
        }
      });
    } catch (e) {
      if (!out) throw this.mapError(e, ref, p);
      if (abort.signal.aborted) {
        this.log('debug', `archive of ${p} in ${ref}: client closed the connection`);
        return;
      }
      // Headers are out: cut the connection so the client sees a broken archive, not a short valid one.
      this.log('warn', `archive of ${p} in ${ref}: ${errorMessage(e)}`);
      out.destroy();
    }
  }

  /** Extracts a tar (optionally compressed) into the existing directory `p`. */
  async extract(ref: string, p: string, input: Readable, o: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    const info = this.containers.archiveInfo(ref);
    if (!p) throw badRequest('path must not be empty');
    if (info.readonlyRootfs) throw new ApiError(403, 'container rootfs is marked read-only');
    try {
      await this.inRoot(ref, async (root) => {
        let target: { fd: number; containerPath: string };
        try {
          target = await root.resolve(p, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === 'ENOTDIR') throw badRequest('extraction point is not a directory');
          throw e;
        }
        try {
          const chown = o.copyUIDGID && info.user ? await this.userIds(root, info.user) : undefined;
          await unpackTree(root, target.fd, await decompress(input), {
            noOverwriteDirNonDir: o.noOverwriteDirNonDir,
            chown,
            containerPath: target.containerPath,
            log: (m) => this.log('warn', m),
          });
        } finally {
          fs.closeSync(target.fd);
        }
      });
    } catch (e) {
      input.resume();
      throw this.mapError(e, ref, p);
    }
  }

  /** The container's configured user, looked up in its own /etc/passwd and /etc/group (read through the root, never by host path). */
  private async userIds(root: RootFs, user: string): Promise<{ uid: number; gid: number }> {
    const read = async (f: string) => {
      try {
        const r = await root.resolve(f);
        try {
          return fs.readFileSync(r.fd, 'utf8');
        } finally {
          fs.closeSync(r.fd);
        }
      } catch {
        return undefined;
      }
    };
    try {
      const u = getExecUser(user, await read('/etc/passwd'), await read('/etc/group'));
      return { uid: u.uid, gid: u.gid };
    } catch (e) {
      throw badRequest(errorMessage(e));
    }
  }
}
