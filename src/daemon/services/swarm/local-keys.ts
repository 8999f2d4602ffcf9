// A node's private key material on its own disk: the TLS key of its node
// certificate and, on managers, the cluster's data key (secrets, the CA key in
// etcd). Plain files normally; with autolock (`swarm init --autolock`) one file
// sealed with the swarm's unlock key, so a manager that restarts has nothing
// usable until `swarm unlock` hands the key back.
//
// etcd reads the TLS key from a file on every handshake, so the key it uses is
// a copy in the exec root (a tmpfs, gone at reboot), written when the keys are
// in memory and removed when the node stops being part of the swarm.
import { promises as fsp, existsSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../../stores/atomic-file.js';
import { decrypt, encrypt } from './secret-service.js';

const UNLOCK_PREFIX = 'SWMKEY-1-';
const NODE_KEY = 'node.key';
const DATA_KEY = 'data.key';
const SEALED = 'keys.sealed';

export class InvalidUnlockKey extends Error {
  constructor() {
    super('swarm could not be unlocked: invalid key');
  }
}

/** A new unlock key in docker's human-readable form. */
export function newUnlockKey(): string {
  return UNLOCK_PREFIX + randomBytes(32).toString('base64').replace(/=+$/, '');
}

/** The 32 bytes behind an unlock key; InvalidUnlockKey when it is not one. */
function unlockBytes(key: string): Buffer {
  const k = key.trim();
  if (!k.startsWith(UNLOCK_PREFIX)) throw new InvalidUnlockKey();
  const b = Buffer.from(k.slice(UNLOCK_PREFIX.length), 'base64');
  if (b.length !== 32) throw new InvalidUnlockKey();
  return b;
}

export class LocalKeys {
  nodeKey?: string;
  dataKey?: Buffer;
  /** The unlock key the files are sealed with; undefined: plain files. */
  private sealedWith?: string;

  /** `dir`: the node's swarm dir (data root); `runDir`: where etcd's copy of the TLS key goes. */
  constructor(
    private dir: string,
    private runDir: string,
  ) {}

  /** Path of the TLS key etcd is given (see etcdKeyFile). */
  get etcdKeyPath(): string {
    return path.join(this.runDir, NODE_KEY);
  }

  /** Whether the keys on disk are sealed and not (yet) in memory: the node is locked. */
  get locked(): boolean {
    return this.nodeKey === undefined && existsSync(path.join(this.dir, SEALED));
  }

  get autolocked(): boolean {
    return this.sealedWith !== undefined || existsSync(path.join(this.dir, SEALED));
  }

  /** At start: plain keys are read; sealed ones wait for unlock(). */
  async load(): Promise<void> {
    if (existsSync(path.join(this.dir, SEALED))) return;
    this.nodeKey = await fsp.readFile(path.join(this.dir, NODE_KEY), 'utf8');
    const data = await fsp.readFile(path.join(this.dir, DATA_KEY), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    this.dataKey = data === undefined ? undefined : Buffer.from(data.trim(), 'base64');
  }

  /** The keys back from their sealed file; InvalidUnlockKey for a wrong key. */
  async unlock(key: string): Promise<void> {
    const sealed = await fsp.readFile(path.join(this.dir, SEALED), 'utf8');
    let plain: { nodeKey: string; dataKey?: string };
    try {
      plain = JSON.parse(decrypt(unlockBytes(key), sealed).toString('utf8'));
    } catch (e) {
      if (e instanceof InvalidUnlockKey) throw e;
      // GCM's tag check: another key
      throw new InvalidUnlockKey();
    }
    this.nodeKey = plain.nodeKey;
    this.dataKey = plain.dataKey ? Buffer.from(plain.dataKey, 'base64') : undefined;
    this.sealedWith = key.trim();
  }

  /** New key material (join, promotion, demotion), written as the node's lock setting says. */
  async set(p: { nodeKey?: string; dataKey?: Buffer | null }): Promise<void> {
    if (p.nodeKey !== undefined) this.nodeKey = p.nodeKey;
    if (p.dataKey === null) this.dataKey = undefined;
    else if (p.dataKey !== undefined) this.dataKey = p.dataKey;
    await this.persist();
  }

  /** Autolock on (the unlock key) or off (undefined); a changed key re-seals. */
  async setUnlockKey(key: string | undefined): Promise<void> {
    if (key === this.sealedWith) return;
    this.sealedWith = key;
    await this.persist();
  }

  private async persist(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const files = [NODE_KEY, DATA_KEY, SEALED].map((f) => path.join(this.dir, f));
    if (this.sealedWith) {
      const plain = JSON.stringify({ nodeKey: this.nodeKey, ...(this.dataKey ? { dataKey: this.dataKey.toString('base64') } : {}) });
      await writeFileAtomic(files[2]!, encrypt(unlockBytes(this.sealedWith), Buffer.from(plain)));
      for (const f of files.slice(0, 2)) await fsp.rm(f, { force: true });
      return;
    }
    await writeFileAtomic(files[0]!, this.nodeKey ?? '');
    if (this.dataKey) await writeFileAtomic(files[1]!, this.dataKey.toString('base64'));
    else await fsp.rm(files[1]!, { force: true });
    await fsp.rm(files[2]!, { force: true });
  }

  /** Writes etcd's copy of the TLS key; returns its path. */
  async etcdKeyFile(): Promise<string> {
    await fsp.mkdir(this.runDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.etcdKeyPath, this.nodeKey ?? '');
    return this.etcdKeyPath;
  }

  async removeEtcdKeyFile(): Promise<void> {
    await fsp.rm(this.etcdKeyPath, { force: true });
  }

  /** Leaving the swarm: nothing of the keys stays, in memory or on disk. */
  async clear(): Promise<void> {
    this.nodeKey = undefined;
    this.dataKey = undefined;
    this.sealedWith = undefined;
    for (const f of [NODE_KEY, DATA_KEY, SEALED]) await fsp.rm(path.join(this.dir, f), { force: true });
    await this.removeEtcdKeyFile();
  }
}
