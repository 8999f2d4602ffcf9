import fs from 'node:fs';
import path from 'node:path';
import type { OciDevice, OciDeviceCgroup } from './oci-spec.js';

/** HostConfig.Devices entry (`--device /dev/host:/dev/ctr:rwm`). */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer?: string;
  CgroupPermissions?: string;
}

// dockerd's --device-cgroup-rule grammar: type major:minor access.
const CGROUP_RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

function splitDev(rdev: bigint): { major: number; minor: number } {
  return {
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

async function deviceAt(hostPath: string, ctrPath: string, perms: string): Promise<{ dev: OciDevice; rule: OciDeviceCgroup } | undefined> {
  const st = await fs.promises.stat(hostPath, { bigint: true });
  const mode = Number(st.mode);
  const type = (mode & fs.constants.S_IFMT) === fs.constants.S_IFCHR ? 'c' : (mode & fs.constants.S_IFMT) === fs.constants.S_IFBLK ? 'b' : undefined;
  if (!type) return undefined;
  const { major, minor } = splitDev(st.rdev);
  return {
    dev: { path: ctrPath, type, major, minor, fileMode: mode & 0o7777, uid: Number(st.uid), gid: Number(st.gid) },
    rule: { allow: true, type, major, minor, access: perms },
  };
}

/**
 * The device nodes and cgroup rules for `--device` (moby's DevicesFromPath):
 * a symlink is followed, a directory contributes every device below it (under
 * the same relative path in the container), anything else is an error worded
 * as dockerd's.
 */
export async function customDevices(mappings: DeviceMapping[]): Promise<{ devices: OciDevice[]; rules: OciDeviceCgroup[] }> {
  const devices: OciDevice[] = [];
  const rules: OciDeviceCgroup[] = [];
  for (const m of mappings) {
    const host = m.PathOnHost;
    const ctr = m.PathInContainer || host;
    const perms = m.CgroupPermissions || 'rwm';
    const fail = (why: string) => new Error(`error gathering device information while adding custom device "${host}": ${why}`);
    let resolved = host;
    try {
      const l = await fs.promises.lstat(host);
      if (l.isSymbolicLink()) resolved = await fs.promises.realpath(host);
    } catch (e) {
      throw fail(errnoText(e));
    }
    const one = await deviceAt(resolved, ctr, perms).catch((e) => {
      throw fail(errnoText(e));
    });
    if (one) {
      devices.push(one.dev);
      rules.push(one.rule);
      continue;
    }
    if (!(await fs.promises.stat(resolved)).isDirectory()) throw fail('not a device node');
    const walk = async (dir: string): Promise<void> => {
      for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isCharacterDevice() || e.isBlockDevice()) {
          const d = await deviceAt(full, path.join(ctr, path.relative(resolved, full)), perms).catch(() => undefined);
          if (d) {
            devices.push(d.dev);
            rules.push(d.rule);
          }
        }
      }
    };
    await walk(resolved);
  }
  return { devices, rules };
}

/** `--device-cgroup-rule` entries as OCI device cgroup rules; dockerd's text for a bad one. */
export function cgroupRules(rules: string[]): OciDeviceCgroup[] {
  return rules.map((r) => {
    const m = CGROUP_RULE.exec(r);
    if (!m) throw new Error(`invalid device cgroup rule format: '${r}'`);
    const rule: OciDeviceCgroup = { allow: true, type: m[1] as 'a' | 'b' | 'c', access: m[4] };
    if (m[2] !== '*') rule.major = Number(m[2]);
    if (m[3] !== '*') rule.minor = Number(m[3]);
    return rule;
  });
}

/** Go's text for an errno ("no such file or directory"), as dockerd prints it. */
function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const texts: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOTDIR: 'not a directory',
    ELOOP: 'too many levels of symbolic links',
  };
  return (code && texts[code]) || (e as Error).message;
}
