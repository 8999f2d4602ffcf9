// Which peer group a host path's mount is in, for bind propagation: a
// shared bind needs a shared source mount, a slave one a shared or slave
// source (dockerd's ensureShared / ensureSharedOrSlave, with its texts).
import fs from 'node:fs';
import path from 'node:path';

interface MountInfo {
  mountPoint: string;
  optional: string;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount `p` lives on (the longest mount point that is a prefix of it) and its optional fields. */
export function sourceMount(p: string): MountInfo {
  const real = fs.realpathSync(p);
  let best: MountInfo = { mountPoint: '/', optional: '' };
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length < 7) continue;
    const mp = unescape(f[4]!);
    const sep = f.indexOf('-', 6);
    const optional = f.slice(6, sep < 0 ? undefined : sep).join(' ');
    const under = mp === '/' || real === mp || real.startsWith(mp.endsWith('/') ? mp : mp + path.sep);
    // Later lines are mounted on top of earlier ones at the same point.
    if (under && mp.length >= best.mountPoint.length) best = { mountPoint: mp, optional };
  }
  return best;
}

export function ensureShared(p: string): void {
  const m = sourceMount(p);
  if (!m.optional.includes('shared:')) throw new Error(`path ${p} is mounted on ${m.mountPoint} but it is not a shared mount`);
}

export function ensureSharedOrSlave(p: string): void {
  const m = sourceMount(p);
  if (!m.optional.includes('shared:') && !m.optional.includes('master:')) {
    throw new Error(`path ${p} is mounted on ${m.mountPoint} but it is not a shared or slave mount`);
  }
}
