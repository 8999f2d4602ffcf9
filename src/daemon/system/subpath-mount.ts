// `volume-subpath`: a path inside a volume, mounted into a container. The
// path is resolved by the kernel inside the volume (root-fs.ts), and the
// object found is bind-mounted from its fd onto a private staging point, so a
// symlink placed in a shared volume cannot send the runtime outside it; the
// runtime then binds the staging point (dockerd's "safepath").
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { RootFs, RootFsError, O_PATH } from './root-fs.js';
import { isMounted, unmount } from './overlay-mount.js';

const MOUNT = '/bin/mount';

export async function mountSubpath(volumeDir: string, subpath: string, staging: string): Promise<void> {
  const root = await RootFs.open(volumeDir);
  let fd: number;
  try {
    fd = (await root.resolve(subpath, O_PATH)).fd;
  } catch (e) {
    if (e instanceof RootFsError && e.code === 'ENOENT') throw new Error(`cannot access path ${path.join(volumeDir, subpath)}: it does not exist in the volume`);
    throw e;
  } finally {
    root.close();
  }
  try {
    const st = fs.fstatSync(fd);
    await fs.promises.mkdir(path.dirname(staging), { recursive: true, mode: 0o700 });
    if (st.isDirectory()) await fs.promises.mkdir(staging, { mode: 0o700 });
    else await fs.promises.writeFile(staging, '', { mode: 0o600, flag: 'wx' });
    await new Promise<void>((resolve, reject) => {
      const child = spawn(MOUNT, ['--no-canonicalize', '--bind', '/proc/self/fd/3', staging], { stdio: ['ignore', 'ignore', 'pipe', fd] });
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(err.trim() || `mount exited with ${code}`))));
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** Unmounts a staging point and removes it (never recursively: it may still be a mount). */
export async function releaseSubpath(staging: string): Promise<void> {
  if (!fs.existsSync(staging)) return;
  if (await isMounted(staging)) await unmount(staging).catch(() => unmount(staging, { lazy: true }));
  const st = await fs.promises.lstat(staging).catch(() => undefined);
  if (!st) return;
  if (st.isDirectory()) await fs.promises.rmdir(staging);
  else await fs.promises.unlink(staging);
}
