// Copy-up: a new, empty volume mounted over a directory that has content in
// the container's root gets that content, with owners and modes, before the
// container first runs (docker's CopyImagePathContent). The source is read
// through root-fs.ts (resolved inside the root, never following a symlink out
// of it); the volume directory is ours and freshly made.
import fs from 'node:fs';
import path from 'node:path';
import tar from 'tar-stream';
import type { Readable } from 'node:stream';
import { RootFs, RootFsError } from './root-fs.js';
import { packTree, unpackTree } from './root-tar.js';

/**
 * A cheap "nothing to copy" before spawning the resolver: the path is missing
 * and no component on the way is a symlink (lstat never follows one, so this
 * looks only inside the root). Anything else is left to the resolver.
 */
async function absentWithoutSymlinks(rootDir: string, containerPath: string): Promise<boolean> {
  let p = rootDir;
  for (const c of containerPath.split('/').filter((x) => x && x !== '.')) {
    if (c === '..') return false;
    p = path.join(p, c);
    const st = await fs.promises.lstat(p).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : undefined));
    if (st === null) return true;
    if (!st || !st.isDirectory()) return false;
  }
  return false;
}

/** Copies `containerPath` of the root at `rootDir` into `volumeDir` when the volume is empty; false when there was nothing to do. */
export async function copyUp(rootDir: string, containerPath: string, volumeDir: string, log: (msg: string) => void): Promise<boolean> {
  if ((await fs.promises.readdir(volumeDir)).length > 0) return false;
  if (await absentWithoutSymlinks(rootDir, containerPath)) return false;
  const src = await RootFs.open(rootDir);
  try {
    let dir: { fd: number };
    try {
      dir = await src.resolve(containerPath, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (e) {
      // Nothing there (or not a directory): runc makes the mount point, the volume stays empty.
      if (e instanceof RootFsError && ['ENOENT', 'ENOTDIR'].includes(e.code)) return false;
      throw e;
    }
    const dst = await RootFs.open(volumeDir);
    try {
      const pack = tar.pack();
      const ac = new AbortController();
      const packing = packTree(pack, '.', { selfFd: dir.fd }, ac.signal).catch((e) => {
        pack.destroy(e as Error);
        throw e;
      });
      const unpacking = unpackTree(dst, dst.rootFd, pack as unknown as Readable, { noOverwriteDirNonDir: false, containerPath: '/', log }).catch((e) => {
        ac.abort();
        throw e;
      });
      await Promise.all([packing, unpacking]);
    } finally {
      dst.close();
      fs.closeSync(dir.fd);
    }
    return true;
  } finally {
    src.close();
  }
}
