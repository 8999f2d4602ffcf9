// Where a manager's cluster store lives: an etcd member berthd runs and
// supervises itself (the default; managers joining become members), or an
// existing etcd cluster named with --swarm-external-etcd (berthd then runs no
// etcd and leaves membership alone; each swarm keeps its keys under its own
// prefix so several can share that cluster).
import fs from 'node:fs';
import path from 'node:path';
import { ClusterStore, type StoreTls } from '../../stores/cluster-store.js';
import { EtcdProcess, peerUrl } from '../../system/etcd-process.js';

export interface ExternalEtcd {
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface StoreHostConfig {
  etcdBinary: string;
  etcdClientPort: number;
  etcdPeerPort: number;
  external?: ExternalEtcd;
}

export interface MemberPlan {
  nodeId: string;
  clusterId: string;
  advertiseAddr: string;
  /** This node's swarm directory (certificates, etcd data). */
  dir: string;
  initialCluster?: string;
  state: 'new' | 'existing';
  /** The node's TLS key as a file for etcd (a runtime copy: the at-rest one may be sealed). */
  keyFile: string;
}

export class StoreHost {
  private etcd?: EtcdProcess;

  constructor(
    private cfg: StoreHostConfig,
    private log: (level: string, msg: string) => void,
  ) {}

  get external(): boolean {
    return !!this.cfg.external;
  }

  /** Starts the member (embedded) and opens the store. */
  async open(p: MemberPlan, nodeTls: StoreTls): Promise<ClusterStore> {
    const ext = this.cfg.external;
    if (ext) {
      const https = ext.endpoints.some((e) => e.startsWith('https:'));
      const read = (f?: string) => (f ? fs.readFileSync(f, 'utf8') : undefined);
      const tls = https ? { ca: read(ext.caFile) ?? '', cert: read(ext.certFile) ?? '', key: read(ext.keyFile) ?? '' } : undefined;
      return new ClusterStore(ext.endpoints, tls, `/berth/swarm/${p.clusterId}/`);
    }
    const f = (n: string) => path.join(p.dir, n);
    this.etcd = new EtcdProcess({
      binary: this.cfg.etcdBinary,
      name: p.nodeId,
      dataDir: f('etcd'),
      advertiseAddr: p.advertiseAddr,
      clientPort: this.cfg.etcdClientPort,
      peerPort: this.cfg.etcdPeerPort,
      initialCluster: p.initialCluster ?? `${p.nodeId}=${peerUrl(p.advertiseAddr, this.cfg.etcdPeerPort)}`,
      state: p.state,
      caFile: f('ca.crt'),
      certFile: f('node.crt'),
      keyFile: p.keyFile,
      logFile: f('etcd.log'),
      log: this.log,
    });
    await this.etcd.start();
    return new ClusterStore([this.etcd.clientEndpoint], nodeTls);
  }

  async close(store?: ClusterStore): Promise<void> {
    store?.close();
    await this.etcd?.stop();
    this.etcd = undefined;
  }

  /**
   * Makes room for a new manager: an etcd member for it (embedded), returning
   * the initial-cluster string it starts with. Nothing to do for an external
   * etcd. A retried call finds its member already added.
   */
  async addMember(store: ClusterStore, nodeId: string, addr: string, peerPort: number): Promise<string | undefined> {
    if (this.external) return undefined;
    const pu = peerUrl(addr, peerPort);
    const existing = (await store.memberList()).find((m) => m.peerURLs.includes(pu));
    const members = existing ? await store.memberList() : (await store.memberAdd(pu)).members;
    return members.map((m) => `${m.name || nodeId}=${m.peerURLs[0]}`).join(',');
  }

  /** A manager leaves (or is demoted): its etcd member goes, unless it is the last one. */
  async removeMember(store: ClusterStore, nodeId: string): Promise<void> {
    if (this.external) return;
    const members = await store.memberList();
    const me = members.find((m) => m.name === nodeId);
    if (me && members.length > 1) await store.memberRemove(me.id);
  }
}
