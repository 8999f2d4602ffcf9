import { promises as fsp } from 'node:fs';
import { runHost } from './host-command.js';

const MOUNT = '/bin/mount';
const UMOUNT = '/bin/umount';

/**
 * A mount as containerd describes it. `cwd` is set only when the option string
 * would exceed the kernel's page-size limit: the layer paths are then relative
 * to it, and the mount must be made from that directory.
 */
export interface MountSpec {
  type: string;
  source: string;
  options: string[];
  cwd?: string;
}

export class MountError extends Error {
  override name = 'MountError';
}

export async function mountOverlay(spec: MountSpec, target: string): Promise<void> {
  await fsp.mkdir(target, { recursive: true });
  try {
    await runHost(MOUNT, ['-t', spec.type, spec.source, target, '-o', spec.options.join(',')], { cwd: spec.cwd });
  } catch (e) {
    throw new MountError(`mount ${spec.type} at ${target}: ${(e as Error).message}`);
  }
}

export async function unmount(target: string, opts: { lazy?: boolean } = {}): Promise<void> {
  try {
    await runHost(UMOUNT, opts.lazy ? ['-l', target] : [target]);
  } catch (e) {
    throw new MountError(`unmount ${target}: ${(e as Error).message}`);
  }
}

/** Whether `target` is a mount point (listed in /proc/self/mountinfo). */
export async function isMounted(target: string): Promise<boolean> {
  const info = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  const esc = target.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
  return info.split('\n').some((l) => l.split(' ')[4] === esc);
}
