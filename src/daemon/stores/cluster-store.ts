// The cluster store: swarm's objects (cluster, nodes, services, tasks) as JSON
// values in etcd under /berth/swarm/, with compare-and-swap updates, leased
// liveness keys, watches and leader election. Only managers open it.
import { Etcd3, type Election, type Lease, type Watcher } from 'etcd3';

/** Where a swarm's keys live in etcd when it has the etcd to itself. */
export const DEFAULT_ROOT = '/berth/swarm/';

/** A fault-handling policy that just runs the call (the shape etcd3's connection pool uses). */
const PASS_THROUGH = { execute: <T>(fn: (ctx: { signal: AbortSignal; attempt: number }) => T): Promise<Awaited<T>> => Promise.resolve(fn({ signal: new AbortController().signal, attempt: 0 })) };

export interface StoreTls {
  ca: string;
  cert: string;
  key: string;
}

export interface Versioned<T> {
  key: string;
  value: T;
  /** etcd mod revision: the object's version for optimistic updates. */
  version: number;
}

export class ClusterStore {
  private client: Etcd3;
  private leases = new Map<string, Lease>();

  /** `tls` undefined: plain http endpoints (an external etcd without TLS). */
  constructor(endpoints: string[], tls: StoreTls | undefined, private readonly root = DEFAULT_ROOT) {
    this.client = new Etcd3({
      hosts: endpoints,
      ...(tls ? { credentials: { rootCertificate: Buffer.from(tls.ca), certChain: tls.cert ? Buffer.from(tls.cert) : undefined, privateKey: tls.key ? Buffer.from(tls.key) : undefined } } : {}),
      dialTimeout: 3000,
      // The one endpoint is this manager's own member: a circuit breaker that fails
      // calls fast for seconds after a hiccup (etcd3's default) only adds outages.
      faultHandling: { host: () => PASS_THROUGH as never },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 8000 }),
    });
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const r = await this.client.get(this.root + key).exec();
    const kv = r.kvs[0];
    return kv ? { key, value: JSON.parse(kv.value.toString()) as T, version: Number(kv.mod_revision) } : undefined;
  }

  async list<T>(prefix: string): Promise<Array<Versioned<T>>> {
    const r = await this.client.getAll().prefix(this.root + prefix).exec();
    return r.kvs.map((kv) => ({ key: kv.key.toString().slice(this.root.length), value: JSON.parse(kv.value.toString()) as T, version: Number(kv.mod_revision) }));
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.client.put(this.root + key).value(JSON.stringify(value));
  }

  /** Writes only when the key does not exist yet; false when it does. */
  async create(key: string, value: unknown): Promise<boolean> {
    const r = await this.client.if(this.root + key, 'Create', '==', 0).then(this.client.put(this.root + key).value(JSON.stringify(value))).commit();
    return r.succeeded;
  }

  /** Writes several new keys in one transaction, so readers see all or none; false (nothing written) when one exists. */
  async createAll(entries: Array<[string, unknown]>): Promise<boolean> {
    if (!entries.length) return true;
    const [first, ...rest] = entries;
    let tx = this.client.if(this.root + first![0], 'Create', '==', 0);
    for (const [k] of rest) tx = tx.and(this.root + k, 'Create', '==', 0);
    const r = await tx.then(...entries.map(([k, v]) => this.client.put(this.root + k).value(JSON.stringify(v)))).commit();
    return r.succeeded;
  }

  /** Writes only when the key is still at `version`; false when someone changed it since. */
  async replace(key: string, value: unknown, version: number): Promise<boolean> {
    const r = await this.client.if(this.root + key, 'Mod', '==', version).then(this.client.put(this.root + key).value(JSON.stringify(value))).commit();
    return r.succeeded;
  }

  /** replace(), writing `also` in the same transaction: readers see all of it or none. */
  async replaceWith(key: string, value: unknown, version: number, also: Array<[string, unknown]>): Promise<boolean> {
    const puts = [[key, value] as [string, unknown], ...also].map(([k, v]) => this.client.put(this.root + k).value(JSON.stringify(v)));
    const r = await this.client.if(this.root + key, 'Mod', '==', version).then(...puts).commit();
    return r.succeeded;
  }

  /** Read-modify-write with retries on conflict; fn returning undefined leaves the key alone. */
  async update<T>(key: string, fn: (cur: T) => T | undefined): Promise<T | undefined> {
    for (let i = 0; i < 20; i++) {
      const cur = await this.get<T>(key);
      if (!cur) return undefined;
      const next = fn(cur.value);
      if (next === undefined) return cur.value;
      if (await this.replace(key, next, cur.version)) return next;
    }
    throw new Error(`update of ${key}: too many concurrent changes`);
  }

  async delete(key: string): Promise<void> {
    await this.client.delete().key(this.root + key);
  }

  async deletePrefix(prefix: string): Promise<void> {
    await this.client.delete().prefix(this.root + prefix);
  }

  /**
   * Keeps `key` alive for ttl seconds from now: the key lives on a lease that
   * only this call renews, so it vanishes when the calls stop.
   */
  async touch(key: string, ttlSeconds: number, value: unknown = {}): Promise<void> {
    let lease = this.leases.get(key);
    if (lease && !lease.revoked()) {
      try {
        await lease.keepaliveOnce();
        return;
      } catch {
        this.leases.delete(key);
      }
    }
    lease = this.client.lease(ttlSeconds, { autoKeepAlive: false });
    lease.on('lost', () => {
      if (this.leases.get(key) === lease) this.leases.delete(key);
    });
    await lease.grant();
    await lease.put(this.root + key).value(JSON.stringify(value));
    this.leases.set(key, lease);
  }

  async watch(prefix: string, onChange: () => void): Promise<() => Promise<void>> {
    const w: Watcher = await this.client.watch().prefix(this.root + prefix).create();
    w.on('put', onChange);
    w.on('delete', onChange);
    w.on('error', () => undefined);
    return () => w.cancel();
  }

  election(name: string, ttlSeconds: number): Election {
    return this.client.election(this.root + 'election/' + name, ttlSeconds);
  }

  async memberAdd(peerUrl: string): Promise<{ id: string; members: Array<{ name: string; peerURLs: string[] }> }> {
    const r = await this.client.cluster.memberAdd({ peerURLs: [peerUrl] });
    return { id: r.member.ID, members: r.members.map((m) => ({ name: m.name, peerURLs: m.peerURLs })) };
  }

  async memberList(): Promise<Array<{ id: string; name: string; peerURLs: string[]; clientURLs: string[] }>> {
    const r = await this.client.cluster.memberList({});
    return r.members.map((m) => ({ id: m.ID, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs }));
  }

  async memberRemove(id: string): Promise<void> {
    await this.client.cluster.memberRemove({ ID: id });
  }

  close(): void {
    for (const l of this.leases.values()) l.release();
    this.leases.clear();
    this.client.close();
  }
}
