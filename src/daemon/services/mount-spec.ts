// A container's mounts as dockerd resolves them at create: `-v` specs
// (HostConfig.Binds), `--mount` (HostConfig.Mounts), `--tmpfs`,
// `--volumes-from`, and the anonymous volumes of Config.Volumes (the image's
// VOLUMEs and `-v /path`), with dockerd's validation order and error texts.
// Pure: the callers give the lookups, nothing is created here.
import path from 'node:path';
import { ApiError, badRequest } from '../errors.js';
import type { MountPointRecord } from '../stores/volume-store.js';
import { VolumeService, type VolumeCreateOptions } from './volume-service.js';

/** The Engine API's mount.Mount (HostConfig.Mounts). */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean } | null;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string> | null;
    DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null;
    Subpath?: string;
  } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: unknown } | null;
}

export interface MountInputs {
  Binds?: string[] | null;
  Mounts?: ApiMount[] | null;
  Tmpfs?: Record<string, string> | null;
  VolumesFrom?: string[] | null;
  VolumeDriver?: string;
}

/**
 * HostConfig flag the builder sets on its RUN containers: the image's VOLUMEs
 * get no anonymous volumes (and so no copy-up), as BuildKit does.
 */
export const SKIP_IMAGE_VOLUMES = 'BerthSkipImageVolumes';

export interface VolumeToCreate {
  /** Index of the mount point that gets the volume's name and path. */
  index: number;
  name?: string;
  opts?: VolumeCreateOptions;
  anonymous: boolean;
}

export interface MountPlan {
  points: MountPointRecord[];
  volumes: VolumeToCreate[];
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
export const PROPAGATION_MODES = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);

/** moby's linuxValidMountMode: known words, at most one of each kind. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const kind = RW_MODES.has(o) ? 0 : LABEL_MODES.has(o) ? 1 : PROPAGATION_MODES.has(o) ? 2 : COPY_MODES.has(o) ? 3 : CONSISTENCY_MODES.has(o) ? 4 : -1;
    if (kind < 0) return false;
    counts[kind]!++;
  }
  return counts.every((n) => n <= 1);
}

/** Go's path.Clean: normalized, no trailing slash. */
export function cleanPath(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

const modeWords = (mode: string) => (mode ? mode.split(',') : []);
const propagationOf = (mode: string) => modeWords(mode).find((o) => PROPAGATION_MODES.has(o)) ?? '';

class MountConfigError extends ApiError {
  constructor(type: string, why: string) {
    super(400, `invalid mount config for type "${type}": ${why}`);
  }
}

function validateTarget(m: ApiMount): void {
  const type = m.Type ?? '';
  if (!m.Target) throw new MountConfigError(type, 'field Target must not be empty');
  if (cleanPath(m.Target) === '/') throw new MountConfigError(type, "invalid specification: destination can't be '/'");
  if (!path.posix.isAbsolute(m.Target)) throw new MountConfigError(type, `invalid mount path: '${m.Target}' mount path must be absolute`);
}

/** moby's validateMountConfig; `exists` only when the bind source must exist (`--mount`, not `-v`). */
export function validateMount(m: ApiMount, exists?: (p: string) => boolean): void {
  const type = m.Type ?? '';
  validateTarget(m);
  switch (type) {
    case 'bind': {
      if (!m.Source) throw new MountConfigError(type, 'field Source must not be empty');
      const prop = m.BindOptions?.Propagation;
      if (prop && !PROPAGATION_MODES.has(prop)) throw new MountConfigError(type, `invalid propagation mode: ${prop}`);
      if (m.VolumeOptions) throw new MountConfigError(type, 'field VolumeOptions must not be specified');
      if (m.TmpfsOptions) throw new MountConfigError(type, 'field TmpfsOptions must not be specified');
      if (!path.posix.isAbsolute(m.Source)) throw new MountConfigError(type, `invalid mount path: '${m.Source}' mount path must be absolute`);
      if (m.BindOptions?.ReadOnlyNonRecursive && !m.ReadOnly) throw new MountConfigError(type, 'option ReadOnlyNonRecursive requires ReadOnly');
      if (m.BindOptions?.ReadOnlyForceRecursive) {
        if (!m.ReadOnly) throw new MountConfigError(type, 'option ReadOnlyForceRecursive requires ReadOnly');
        if (m.BindOptions.ReadOnlyNonRecursive) throw new MountConfigError(type, 'option ReadOnlyForceRecursive conflicts with ReadOnlyNonRecursive');
        if (m.BindOptions.NonRecursive) throw new MountConfigError(type, 'option ReadOnlyForceRecursive requires recursive bind');
      }
      if (exists && !exists(m.Source) && !m.BindOptions?.CreateMountpoint) {
        throw new MountConfigError(type, `bind source path does not exist: ${m.Source}`);
      }
      return;
    }
    case 'volume':
      if (m.BindOptions) throw new MountConfigError(type, 'field BindOptions must not be specified');
      if (m.TmpfsOptions) throw new MountConfigError(type, 'field TmpfsOptions must not be specified');
      if (m.VolumeOptions?.Subpath) {
        if (!m.Source) throw new MountConfigError(type, 'must not set Subpath when using anonymous volumes');
        const sub = m.VolumeOptions.Subpath;
        // Go's filepath.IsLocal: relative, and not climbing out.
        if (path.posix.isAbsolute(sub) || cleanPath(sub) === '..' || cleanPath(sub).startsWith('../')) {
          throw new MountConfigError(type, 'subpath must be a relative path within the volume');
        }
      }
      if (!m.Source && m.ReadOnly) throw new MountConfigError(type, 'must not set ReadOnly mode when using anonymous volumes');
      return;
    case 'tmpfs':
      if (m.BindOptions) throw new MountConfigError(type, 'field BindOptions must not be specified');
      if (m.VolumeOptions) throw new MountConfigError(type, 'field VolumeOptions must not be specified');
      if (m.Source) throw new MountConfigError(type, 'field Source must not be specified');
      return;
    default:
      throw new MountConfigError(type, 'mount type unknown');
  }
}

/** moby's ConvertTmpfsOptions: size with the largest unit that divides it. */
export function tmpfsData(size: number | undefined, mode: number | undefined, readOnly: boolean): string {
  const out: string[] = [];
  if (readOnly) out.push('ro');
  if (mode) out.push(`mode=${mode.toString(8)}`);
  if (size) {
    let n = size;
    let suffix = '';
    for (const [s, d] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % d === 0) {
        n = size / d;
        suffix = s;
        break;
      }
    }
    out.push(`size=${n}${suffix}`);
  }
  return out.join(',');
}

/** A validated mount.Mount as a mount point (moby's parseMountSpec). */
function pointFromMount(m: ApiMount, mode: string, createSource: boolean): { point: MountPointRecord; volume?: Omit<VolumeToCreate, 'index'> } {
  const dest = cleanPath(m.Target!);
  const rw = !m.ReadOnly;
  switch (m.Type) {
    case 'bind':
      return {
        point: {
          Type: 'bind',
          Source: cleanPath(m.Source!),
          Destination: dest,
          Mode: mode,
          RW: rw,
          Propagation: m.BindOptions?.Propagation || 'rprivate',
          CreateSource: createSource || !!m.BindOptions?.CreateMountpoint,
          ...(m.BindOptions?.NonRecursive ? { NonRecursive: true } : {}),
          ...(m.BindOptions?.ReadOnlyNonRecursive || m.BindOptions?.NonRecursive ? { ReadOnlyNonRecursive: true } : {}),
        },
      };
    case 'volume': {
      const vo = m.VolumeOptions ?? {};
      const driver = vo.DriverConfig?.Name || 'local';
      const opts: VolumeCreateOptions = { Driver: driver, DriverOpts: vo.DriverConfig?.Options ?? null, Labels: vo.Labels ?? null };
      VolumeService.check({ ...opts, Name: m.Source || undefined });
      return {
        point: {
          Type: 'volume',
          Name: m.Source ?? '',
          Source: '',
          Destination: dest,
          Driver: 'local',
          Mode: mode,
          RW: rw,
          Propagation: '',
          // A subpath is not filled from the image (dockerd neither).
          CopyData: !vo.NoCopy && !vo.Subpath,
          Anonymous: !m.Source,
          ...(vo.Subpath ? { Subpath: cleanPath(vo.Subpath) } : {}),
        },
        volume: { name: m.Source || undefined, opts, anonymous: !m.Source },
      };
    }
    default:
      return {
        point: { Type: 'tmpfs', Source: '', Destination: dest, Mode: mode, RW: rw, Propagation: '', TmpfsSize: m.TmpfsOptions?.SizeBytes, TmpfsMode: m.TmpfsOptions?.Mode },
      };
  }
}

const invalidSpec = (raw: string) => `invalid volume specification: '${raw}'`;

/** moby's ParseMountRaw: `[source:]target[:mode]`; a source that is not an absolute path names a volume. */
export function parseBind(raw: string, volumeDriver = ''): { point: MountPointRecord; volume?: Omit<VolumeToCreate, 'index'> } {
  const arr = raw.split(':');
  if (arr.length > 3 || arr[0] === '') throw badRequest(invalidSpec(raw));
  let source = '';
  let target: string;
  let mode = '';
  if (arr.length === 1) target = arr[0]!;
  else if (arr.length === 2) {
    // `/foo:rw` is a destination with a mode, which a volume cannot have.
    if (validMountMode(arr[1]!)) throw badRequest(invalidSpec(raw));
    source = arr[0]!;
    target = arr[1]!;
  } else {
    source = arr[0]!;
    target = arr[1]!;
    mode = arr[2]!;
  }
  if (!validMountMode(mode)) throw badRequest(`invalid mode: ${mode}`);
  const m: ApiMount = { Type: path.posix.isAbsolute(source) ? 'bind' : 'volume', Source: source, Target: target, ReadOnly: modeWords(mode).includes('ro') };
  if (volumeDriver && m.Type === 'volume') m.VolumeOptions = { DriverConfig: { Name: volumeDriver } };
  if (modeWords(mode).includes('nocopy')) m.VolumeOptions = { ...m.VolumeOptions, NoCopy: true };
  const prop = propagationOf(mode);
  if (prop) m.BindOptions = { Propagation: prop };
  try {
    validateMount(m);
  } catch (e) {
    if (e instanceof ApiError) throw badRequest(`${invalidSpec(raw)}: ${e.message}`);
    throw e;
  }
  return pointFromMount(m, mode, true);
}

/** moby's parseVolumesFrom. */
export function parseVolumesFrom(spec: string): { ref: string; mode: string } {
  if (!spec) throw badRequest('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const ref = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? '' : spec.slice(i + 1);
  if (mode === '') return { ref, mode: 'rw' };
  const words = modeWords(mode);
  if (!validMountMode(mode) || words.some((w) => PROPAGATION_MODES.has(w) || COPY_MODES.has(w))) throw badRequest(`invalid mode: ${mode}`);
  return { ref, mode };
}

export interface PlanInput {
  hostConfig: MountInputs;
  /** Config.Volumes after the image merge. */
  volumes: Record<string, object> | null | undefined;
  /** The paths among `volumes` that only the image declares (left out when `skipImageVolumes`). */
  imageOnlyVolumes: Set<string>;
  skipImageVolumes: boolean;
  /** Mount points of another container (`--volumes-from`); throws when there is none. */
  volumesFrom: (ref: string) => MountPointRecord[];
  exists: (p: string) => boolean;
}

/**
 * The mount points of a new container, in dockerd's order: volumes-from
 * first (later specs replace them), then Binds, then Mounts (a destination
 * twice among those, or also in Tmpfs, is an error), then an anonymous volume
 * for each Config.Volumes path nothing else mounts.
 */
export function planMounts(input: PlanInput): MountPlan {
  const hc = input.hostConfig;
  const byDest = new Map<string, { point: MountPointRecord; volume?: Omit<VolumeToCreate, 'index'> }>();
  // moby's ValidateTmpfsMountDestination, at create rather than at start.
  for (const dest of Object.keys(hc.Tmpfs ?? {})) {
    if (cleanPath(dest) === '/') throw badRequest("invalid specification: destination can't be '/'");
    if (!path.posix.isAbsolute(dest)) throw badRequest(`invalid mount path: '${dest}' mount path must be absolute`);
  }
  const tmpfs = new Set(Object.keys(hc.Tmpfs ?? {}).map((d) => cleanPath(d)));
  for (const spec of hc.VolumesFrom ?? []) {
    const { ref, mode } = parseVolumesFrom(spec);
    for (const m of input.volumesFrom(ref)) {
      const { Anonymous, CopyData: _c, CreateSource, ...rest } = m;
      byDest.set(m.Destination, {
        point: { ...rest, Mode: '', RW: m.RW && !modeWords(mode).includes('ro'), CopyData: false, ...(Anonymous ? { Anonymous } : {}), ...(CreateSource ? { CreateSource } : {}) },
      });
    }
  }
  const userDests = new Set<string>();
  const claim = (dest: string) => {
    if (userDests.has(dest) || tmpfs.has(dest)) throw badRequest(`Duplicate mount point: ${dest}`);
    userDests.add(dest);
  };
  for (const b of hc.Binds ?? []) {
    const r = parseBind(b, hc.VolumeDriver);
    if (r.volume) VolumeService.check({ ...r.volume.opts, Name: r.volume.name });
    claim(r.point.Destination);
    byDest.set(r.point.Destination, r);
  }
  for (const m of hc.Mounts ?? []) {
    validateMount(m, input.exists);
    const r = pointFromMount(m, '', false);
    claim(r.point.Destination);
    byDest.set(r.point.Destination, r);
  }
  for (const spec of Object.keys(input.volumes ?? {})) {
    if (input.skipImageVolumes && input.imageOnlyVolumes.has(spec)) continue;
    const dest = cleanPath(spec);
    if (byDest.has(dest) || tmpfs.has(dest)) continue;
    const r = parseBind(spec, hc.VolumeDriver);
    byDest.set(dest, r);
  }
  const points: MountPointRecord[] = [];
  const volumes: VolumeToCreate[] = [];
  for (const r of byDest.values()) {
    if (r.volume) volumes.push({ ...r.volume, index: points.length });
    points.push(r.point);
  }
  return { points, volumes };
}
