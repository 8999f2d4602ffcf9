// Named and anonymous volumes with the `local` driver: records, data
// directories under the data root, device-backed volumes (`-o type=…`)
// mounted while a running container uses them, and dockerd's API shapes
// and error texts.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, badRequest, conflict, notFound, serverError, errorMessage } from '../errors.js';
import { VolumeStore, VOLUME_NAME, type VolumeRecord } from '../stores/volume-store.js';
import { isMounted, unmount } from '../system/overlay-mount.js';
import { runHost } from '../system/host-command.js';
import type { EventBus } from './events.js';
import { generateId } from './names.js';

/** The label dockerd (23+) puts on volumes it creates for a spec without a source. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const MOUNT = '/bin/mount';
const VALID_OPTS = new Set(['type', 'device', 'o']);

export interface VolumeCreateOptions {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** Who uses volumes: every container referencing one, and the running ones among them. */
export interface VolumeUsers {
  referencing(name: string): string[];
  running(name: string): string[];
}

export class VolumeService {
  private byName = new Map<string, VolumeRecord>();
  private store: VolumeStore;
  private users: VolumeUsers = { referencing: () => [], running: () => [] };
  /** Volumes a container create is using before its record exists: not removable meanwhile. */
  private reserved = new Map<string, number>();
  /** Serialises create/remove/mount/unmount, so a volume is never removed while it is being mounted. */
  private lock: Promise<void> = Promise.resolve();

  constructor(
    dir: string,
    private events: EventBus,
    private log: (level: string, msg: string) => void,
  ) {
    this.store = new VolumeStore(dir);
  }

  async init(): Promise<void> {
    for (const rec of await this.store.loadAll()) this.byName.set(rec.name, rec);
  }

  setUsers(u: VolumeUsers): void {
    this.users = u;
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise((r) => (release = r));
    return prev.then(fn).finally(() => release());
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** dockerd's lookup error. */
  get(name: string): VolumeRecord {
    const v = this.byName.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  mountpoint(name: string): string {
    return this.store.dataDir(name);
  }

  /** The local driver's name rules, with dockerd's texts; `op` prefixes them as dockerd's OpErr does. */
  static validateName(name: string, op = 'create'): void {
    if (name.length === 1) throw badRequest(`${op} ${name}: volume name is too short, names should be at least two alphanumeric characters`);
    if (!VOLUME_NAME.test(name)) {
      throw badRequest(
        `${op} ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
  }

  static validateDriver(driver: string | undefined): void {
    if (driver && driver !== 'local') throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
  }

  static validateOptions(name: string, opts: Record<string, string> | null | undefined): void {
    if (!opts) return;
    for (const k of Object.keys(opts)) {
      if (k === 'size') throw badRequest(`create ${name}: quota size requested but no quota support`);
      if (!VALID_OPTS.has(k)) throw badRequest(`create ${name}: invalid option key: "${k}"`);
    }
    if (opts.type && !opts.device) throw badRequest(`create ${name}: missing required option: "device"`);
    if (opts.device && !opts.type) throw badRequest(`create ${name}: missing required option: "type"`);
    if (opts.type === 'none' && opts.device && !path.isAbsolute(opts.device)) {
      throw badRequest(`create ${name}: invalid device for a bind volume: ${opts.device}: the device must be an absolute path`);
    }
  }

  /** POST /volumes/create: an existing name answers with that volume, as dockerd does. */
  create(o: VolumeCreateOptions, extra: { anonymous?: boolean } = {}): Promise<Record<string, unknown>> {
    return this.locked(async () => this.toApi(await this.createLocked(o, extra)));
  }

  /** For container create: checks only, nothing written (so a failing create changes nothing). */
  static check(o: VolumeCreateOptions): void {
    VolumeService.validateDriver(o.Driver);
    if (o.Name) VolumeService.validateName(o.Name);
    VolumeService.validateOptions(o.Name ?? '', o.DriverOpts);
  }

  private async createLocked(o: VolumeCreateOptions, extra: { anonymous?: boolean }): Promise<VolumeRecord> {
    const name = o.Name || generateId();
    VolumeService.validateDriver(o.Driver);
    VolumeService.validateName(name);
    const existing = this.byName.get(name);
    if (existing) return existing;
    VolumeService.validateOptions(name, o.DriverOpts);
    const labels = o.Labels ?? (extra.anonymous ? {} : null);
    const rec: VolumeRecord = {
      name,
      driver: 'local',
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      labels: extra.anonymous ? { ...labels, [ANONYMOUS_LABEL]: '' } : labels,
      options: o.DriverOpts ?? null,
    };
    try {
      await this.store.create(rec);
    } catch (e) {
      await this.store.remove(name).catch(() => undefined);
      throw serverError(`create ${name}: ${errorMessage(e)}`);
    }
    this.byName.set(name, rec);
    this.events.emit('volume', 'create', name, { driver: 'local' });
    return rec;
  }

  /** Whether a container (or a container create in progress) uses the volume. */
  private inUse(name: string): string[] {
    const refs = this.users.referencing(name);
    return refs.length || !this.reserved.has(name) ? refs : ['(container being created)'];
  }

  /** Ends the reservation `ensure` made, once the container's record holds the reference (or the create failed). */
  unreserve(names: string[]): void {
    for (const n of names) {
      const k = (this.reserved.get(n) ?? 0) - 1;
      if (k > 0) this.reserved.set(n, k);
      else this.reserved.delete(n);
    }
  }

  /**
   * Creates what container create resolved; returns names of the volumes this
   * call made (to undo on failure). Every name stays reserved until `unreserve`.
   */
  async ensure(specs: Array<{ name?: string; opts?: VolumeCreateOptions; anonymous: boolean }>): Promise<{ names: string[]; created: string[] }> {
    return this.locked(async () => {
      const names: string[] = [];
      const created: string[] = [];
      try {
        for (const s of specs) {
          const before = s.name ? this.byName.has(s.name) : false;
          const rec = await this.createLocked({ ...s.opts, Name: s.name }, { anonymous: s.anonymous });
          names.push(rec.name);
          this.reserved.set(rec.name, (this.reserved.get(rec.name) ?? 0) + 1);
          if (!before) created.push(rec.name);
        }
      } catch (e) {
        this.unreserve(names);
        for (const n of created) await this.destroyLocked(n).catch(() => undefined);
        throw e;
      }
      return { names, created };
    });
  }

  inspect(name: string): Record<string, unknown> {
    return this.toApi(this.get(name));
  }

  toApi(v: VolumeRecord): Record<string, unknown> {
    return {
      CreatedAt: v.createdAt,
      Driver: v.driver,
      Labels: v.labels,
      Mountpoint: this.store.dataDir(v.name),
      Name: v.name,
      Options: v.options,
      Scope: 'local',
    };
  }

  list(f: Map<string, string[]>): { Volumes: Array<Record<string, unknown>>; Warnings: null } {
    for (const k of f.keys()) if (!['dangling', 'name', 'label', 'driver'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const dangling = boolFilter(f, 'dangling');
    const out = [...this.byName.values()]
      .filter((v) => {
        if (dangling !== undefined && (this.inUse(v.name).length === 0) !== dangling) return false;
        const names = f.get('name');
        if (names && !names.some((n) => safeRegex(n).test(v.name))) return false;
        const drivers = f.get('driver');
        if (drivers && !drivers.some((d) => safeRegex(d).test(v.driver))) return false;
        return labelsMatch(v.labels ?? {}, f);
      })
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((v) => this.toApi(v));
    return { Volumes: out, Warnings: null };
  }

  remove(name: string, o: { force: boolean }): Promise<void> {
    return this.locked(async () => {
      if (!this.byName.has(name)) {
        if (o.force) return;
        throw notFound(`get ${name}: no such volume`);
      }
      const refs = this.inUse(name);
      if (refs.length) throw conflict(`remove ${name}: volume is in use - [${refs.join(', ')}]`);
      await this.destroyLocked(name);
    });
  }

  /** Removes a volume no container references any more (anonymous ones at `rm -v`); quiet when another still does. */
  async removeIfUnused(name: string, exceptContainer: string): Promise<void> {
    await this.locked(async () => {
      if (!this.byName.has(name)) return;
      if (this.inUse(name).some((id) => id !== exceptContainer)) return;
      await this.destroyLocked(name);
    });
  }

  private async destroyLocked(name: string): Promise<void> {
    const data = this.store.dataDir(name);
    // Never recurse into a mounted device (a bind volume's host directory).
    if (await isMounted(data)) {
      await unmount(data).catch((e) => {
        throw serverError(`remove ${name}: error while unmounting volume path '${data}': ${errorMessage(e)}`);
      });
    }
    await this.store.remove(name).catch((e) => {
      throw serverError(`remove ${name}: ${errorMessage(e)}`);
    });
    this.byName.delete(name);
    this.events.emit('volume', 'destroy', name, { driver: 'local' });
  }

  async prune(f: Map<string, string[]>): Promise<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }> {
    for (const k of f.keys()) if (!['label', 'label!', 'all'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const all = boolFilter(f, 'all') === true;
    const deleted: string[] = [];
    let space = 0;
    for (const v of [...this.byName.values()]) {
      if (!all && !(v.labels && ANONYMOUS_LABEL in v.labels)) continue;
      if (!labelsMatch(v.labels ?? {}, f)) continue;
      if (this.inUse(v.name).length) continue;
      const size = await this.size(v.name);
      try {
        await this.remove(v.name, { force: false });
      } catch {
        continue; // taken into use meanwhile
      }
      deleted.push(v.name);
      space += size;
    }
    this.events.emit('volume', 'prune', '', { reclaimed: String(space) });
    return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: space };
  }

  /** Bytes of the files in a volume (docker's directory.Size: hard links counted once). */
  async size(name: string): Promise<number> {
    const seen = new Set<string>();
    const walk = async (dir: string): Promise<number> => {
      let total = 0;
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch {
        return 0;
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        const st = await fs.promises.lstat(p).catch(() => undefined);
        if (!st) continue;
        if (st.isDirectory()) total += await walk(p);
        else {
          const key = `${st.dev}:${st.ino}`;
          if (st.nlink > 1 && seen.has(key)) continue;
          seen.add(key);
          total += st.size;
        }
      }
      return total;
    };
    return walk(this.store.dataDir(name));
  }

  /** system df: every volume with its size and how many containers reference it. */
  async usage(): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    for (const v of this.byName.values()) {
      out.push({ ...this.toApi(v), UsageData: { Size: await this.size(v.name), RefCount: this.users.referencing(v.name).length } });
    }
    return out;
  }

  // ---- use by containers -------------------------------------------------------

  /**
   * A container starts using the volume: a device-backed one (`-o type=…`) is
   * mounted at its data directory on first use. The mount event carries
   * dockerd's attributes.
   */
  mount(name: string, containerId: string, attrs: { destination: string; rw: boolean; propagation: string }): Promise<string> {
    return this.locked(async () => {
      const v = this.get(name);
      const data = this.store.dataDir(name);
      const o = v.options;
      if (o?.type && !(await isMounted(data))) {
        await fs.promises.mkdir(data, { recursive: true });
        const args = ['-t', o.type];
        let mo = o.o ?? '';
        // A bind "device" is a host path; anything else is given to mount(8) as it is, as the local driver does.
        if (o.type === 'none' || mo.split(',').includes('bind')) {
          if (!mo.split(',').includes('bind')) mo = mo ? `bind,${mo}` : 'bind';
        }
        if (mo) args.push('-o', mo);
        args.push('--source', o.device ?? o.type, '--target', data);
        try {
          await runHost(MOUNT, args);
        } catch (e) {
          throw serverError(`error while mounting volume '${data}': failed to mount local volume: mount ${o.device}:${data}, flags: ${o.o ?? ''}: ${errorMessage(e).trim()}`);
        }
      }
      this.events.emit('volume', 'mount', name, {
        container: containerId,
        destination: attrs.destination,
        driver: v.driver,
        propagation: attrs.propagation,
        'read/write': String(attrs.rw),
      });
      return data;
    });
  }

  /** The container stopped using it; the last running user unmounts a device-backed volume. */
  release(name: string, containerId: string): Promise<void> {
    return this.locked(async () => {
      const v = this.byName.get(name);
      if (!v) return;
      const data = this.store.dataDir(name);
      if (v.options?.type && !this.users.running(name).some((id) => id !== containerId) && (await isMounted(data))) {
        await unmount(data).catch((e) => this.log('warn', `unmount volume ${name}: ${errorMessage(e)}`));
      }
      this.events.emit('volume', 'unmount', name, { container: containerId, driver: v.driver });
    });
  }
}

function boolFilter(f: Map<string, string[]>, key: string): boolean | undefined {
  const vals = f.get(key);
  if (!vals?.length) return undefined;
  const v = vals[vals.length - 1]!.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ApiError(400, `invalid filter '${key}=${vals[vals.length - 1]}'`);
}

/** label=k, label=k=v, label!=k, label!=k=v. */
function labelsMatch(labels: Record<string, string>, f: Map<string, string[]>): boolean {
  const has = (spec: string) => {
    const i = spec.indexOf('=');
    return i < 0 ? spec in labels : labels[spec.slice(0, i)] === spec.slice(i + 1);
  };
  return (f.get('label') ?? []).every(has) && !(f.get('label!') ?? []).some(has);
}

function safeRegex(s: string): RegExp {
  try {
    return new RegExp(s);
  } catch {
    return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
}
