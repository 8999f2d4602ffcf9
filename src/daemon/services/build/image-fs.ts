// A read-only view of an image's merged filesystem for the builder: where COPY's destination
// already exists, the image's /etc/passwd for --chown names, the files COPY --from reads.
import { randomBytes } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import type { ImageService } from '../image-service.js';
import { mountOverlay, unmount } from '../../system/overlay-mount.js';
import { secureJoin } from '../../system/user-lookup.js';

export class ImageFs {
  private constructor(
    /** the merged root, or null for an image with no layers */
    readonly root: string | null,
    private mounted: string | null,
  ) {}

  static async open(images: ImageService, imageId: string | undefined, tmpDir: string): Promise<ImageFs> {
    const dirs = imageId ? await images.layerDirs(imageId) : [];
    if (dirs.length === 0) return new ImageFs(null, null);
    // overlayfs needs two lower layers when it has no upper one; a single layer is its own view
    if (dirs.length === 1) return new ImageFs(dirs[0]!, null);
    const mnt = path.join(tmpDir, 'build-view-' + randomBytes(6).toString('hex'));
    try {
      await mountOverlay({ type: 'overlay', source: 'overlay', options: ['ro', 'lowerdir=' + dirs.join(':')] }, mnt);
    } catch (e) {
      await fsp.rm(mnt, { recursive: true, force: true });
      throw e;
    }
    return new ImageFs(mnt, mnt);
  }

  async close(): Promise<void> {
    if (!this.mounted) return;
    const m = this.mounted;
    this.mounted = null;
    await unmount(m).catch(() => unmount(m, { lazy: true }).catch(() => undefined));
    await fsp.rm(m, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Host path of an image path, symlinks resolved inside the image. */
  async resolve(p: string): Promise<string | null> {
    if (!this.root) return null;
    return secureJoin(this.root, p);
  }

  /** lstat of the image path with its parents' symlinks resolved. */
  async lstat(p: string): Promise<Stats | undefined> {
    if (!this.root) return undefined;
    const parent = await secureJoin(this.root, path.posix.dirname(p));
    const base = path.posix.basename(p);
    return fsp.lstat(base === '/' || base === '' ? parent : path.join(parent, base)).catch(() => undefined);
  }

  /** stat following symlinks (inside the image). */
  async stat(p: string): Promise<Stats | undefined> {
    if (!this.root) return undefined;
    return fsp.stat(await secureJoin(this.root, p)).catch(() => undefined);
  }

  async readText(p: string): Promise<string | undefined> {
    if (!this.root) return undefined;
    return fsp.readFile(await secureJoin(this.root, p), 'utf8').catch(() => undefined);
  }
}
