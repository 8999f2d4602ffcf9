import fs from 'node:fs';
import path from 'node:path';
import { readJsonFile, removeStaleTemps, writeFileAtomic } from './atomic-file.js';

/** What berthd persists per volume: `<volumes>/<name>/volume.json`; the data is `<volumes>/<name>/_data`, as docker lays it out. */
export interface VolumeRecord {
  name: string;
  driver: string;
  /** RFC 3339, as dockerd reports CreatedAt. */
  createdAt: string;
  labels: Record<string, string> | null;
  /** Driver options (`-o`): type, device, o. */
  options: Record<string, string> | null;
}

/**
 * One resolved mount of a container, persisted in its record at create and
 * turned into an OCI mount at start. Field names follow dockerd's MountPoint,
 * so inspect can show them as they are.
 */
export interface MountPointRecord {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** Volume name (volumes only). */
  Name?: string;
  /** Host path: the bind source, or the volume's mountpoint. */
  Source: string;
  Destination: string;
  Driver?: string;
  /** The mode string of a `-v` spec (`ro`, `z`, `ro,Z`, …), as docker keeps it. */
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Copy the image's content at Destination into the volume when it is empty (docker's default; nocopy clears it). */
  CopyData?: boolean;
  /** The spec named no source (`-v /data`, image VOLUME): `rm -v` removes the volume. */
  Anonymous?: boolean;
  /** `--mount type=bind` fails when the source is missing; `-v` creates it. */
  CreateSource?: boolean;
  NonRecursive?: boolean;
  /** `volume-subpath`: the path inside the volume that is mounted. */
  Subpath?: string;
  /** Read-only only at the top (docker 25+ makes read-only binds recursively read-only otherwise). */
  ReadOnlyNonRecursive?: boolean;
  TmpfsSize?: number;
  TmpfsMode?: number;
}

export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export class VolumeStore {
  constructor(readonly dir: string) {}

  volumeDir(name: string): string {
    if (!VOLUME_NAME.test(name)) throw new Error(`invalid volume name ${JSON.stringify(name)}`);
    return path.join(this.dir, name);
  }

  dataDir(name: string): string {
    return path.join(this.volumeDir(name), '_data');
  }

  async loadAll(): Promise<VolumeRecord[]> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o701 });
    const out: VolumeRecord[] = [];
    for (const name of await fs.promises.readdir(this.dir)) {
      if (!VOLUME_NAME.test(name)) continue;
      await removeStaleTemps(path.join(this.dir, name));
      const rec = await readJsonFile<VolumeRecord>(path.join(this.dir, name, 'volume.json')).catch(() => undefined);
      // A directory without a record is a create that crashed before it finished: not a volume.
      if (rec && rec.name === name) out.push(rec);
    }
    return out;
  }

  /** Creates the data directory, then the record: a crash in between leaves no half volume (loadAll skips it). */
  async create(rec: VolumeRecord): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o701 });
    await fs.promises.mkdir(this.volumeDir(rec.name), { recursive: true, mode: 0o701 });
    await fs.promises.mkdir(this.dataDir(rec.name), { recursive: true, mode: 0o755 });
    await writeFileAtomic(path.join(this.volumeDir(rec.name), 'volume.json'), JSON.stringify(rec));
  }

  /** Removes record first (the volume is gone for good once that is done), then the data. The caller made sure nothing is mounted there. */
  async remove(name: string): Promise<void> {
    await fs.promises.rm(path.join(this.volumeDir(name), 'volume.json'), { force: true });
    await fs.promises.rm(this.volumeDir(name), { recursive: true, force: true });
  }
}
