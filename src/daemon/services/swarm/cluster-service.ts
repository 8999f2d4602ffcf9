// This node's part in a swarm: init, join, leave, update; the local swarm
// state on disk; and the parts that run while the node is in a swarm — the
// etcd member and cluster store (managers), leader election and the leader's
// reconciler, the cluster endpoint, and the agent that runs this node's tasks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Campaign } from 'etcd3';
import { ApiError, badRequest, errorMessage } from '../../errors.js';
import type { ClusterStore } from '../../stores/cluster-store.js';
import { StoreHost, type StoreHostConfig } from './store-host.js';
import { certsIn, checkRootCA, createKeyAndCsr, createRootCA, issuingRoot, rootTlsInfo, signNodeCsr, type KeyPair } from '../../system/swarm-pki.js';
import { writeFileAtomic } from '../../stores/atomic-file.js';
import {
  caDigest36, errNoSwarm, errNotManagerNoSwarm, errNotManagerWorker, errSwarmExists, makeJoinToken, newId, now, parseJoinToken,
  type ClusterRecord, type NodeRecord, type Obj,
} from './model.js';
import { fetchRemoteCA, peerCall, PeerServer, type PeerRequest, type PeerTls } from './peer.js';
import { Dispatcher, type HeartbeatReply, type HeartbeatRequest } from './dispatcher.js';
import { Agent, type TaskRuntime } from './agent.js';
import { Reconciler } from './reconciler.js';
import { SecretService, decrypt, encrypt } from './secret-service.js';
import { InvalidUnlockKey, LocalKeys, newUnlockKey } from './local-keys.js';
import { listNetworks, type SwarmNetwork } from './overlay-store.js';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export type SwarmConfig = StoreHostConfig;

interface LocalState {
  nodeId: string;
  clusterId: string;
  role: 'manager' | 'worker';
  advertiseAddr: string;
  listenAddr: string;
  port: number;
  /** Cluster endpoints (addr:port) of the managers, as last heard. */
  managers: string[];
  /** For an etcd member that joined: the initial cluster it was given. */
  initialCluster?: string;
  etcdState?: 'new' | 'existing';
}

export interface ClusterServiceDeps {
  dataRoot: string;
  /** Runtime files of the swarm (etcd's copy of the node's TLS key): under the exec root. */
  runDir: string;
  swarm: SwarmConfig;
  engineVersion: string;
  runtime: TaskRuntime;
  /** This node's overlay data plane, fed the cluster view with each heartbeat reply. */
  overlay?: { apply(r: HeartbeatReply['overlay'], nodeId: string, advertiseAddr: string): void; clear(): Promise<void> };
  /** This node's plain containers on attachable overlay networks, reported with each heartbeat. */
  attachments?: () => HeartbeatRequest['attachments'];
  log: (level: string, msg: string) => void;
}

const DEFAULT_PORT = 2377;
/** The store key of the swarm's unlock key, present while autolock is on. */
const UNLOCK_KEY = 'unlockkey';
const errSwarmLocked = () => new ApiError(503, 'Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.');
const SECOND = 1e9;

/**
 * The `ca` key: the root that signs (its key sealed with the data key) and,
 * during a root rotation, the roots it replaces, still trusted until every
 * node has a certificate from the new one.
 */
interface CaRecord extends KeyPair {
  sealed?: boolean;
  prev?: string[];
}

/** Node certificates' validity in days, from the swarm's CAConfig.NodeCertExpiry (ns). */
function certDays(cluster: ClusterRecord | undefined): number {
  const ns = Number(cluster?.Spec.CAConfig?.NodeCertExpiry ?? 0);
  return ns > 0 ? ns / SECOND / 86400 : 90;
}

export function defaultClusterSpec(): Obj {
  return {
    Name: 'default',
    Labels: {},
    Orchestration: { TaskHistoryRetentionLimit: 5 },
    Raft: { SnapshotInterval: 10000, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 500, ElectionTick: 10, HeartbeatTick: 1 },
    Dispatcher: { HeartbeatPeriod: 5 * SECOND },
    CAConfig: { NodeCertExpiry: 90 * 24 * 3600 * SECOND },
    TaskDefaults: {},
    EncryptionConfig: { AutoLockManagers: false },
  };
}

export class ClusterService {
  private dir: string;
  private state?: LocalState;
  private tls?: PeerTls;
  private host: StoreHost;
  store?: ClusterStore;
  private server?: PeerServer;
  private agent?: Agent;
  private dispatcher?: Dispatcher;
  private campaign?: Campaign;
  private reconciler?: Reconciler;
  private leaderId?: string;
  private stopped = false;
  /** Serialises init/join/leave. */
  private busy: Promise<unknown> = Promise.resolve();

  /** Secrets and configs (managers only). */
  readonly secrets: SecretService;
  /** The node's TLS key and the data key, plain or sealed (autolock). */
  private keys: LocalKeys;

  constructor(private d: ClusterServiceDeps) {
    this.dir = path.join(d.dataRoot, 'swarm');
    this.keys = new LocalKeys(this.dir, d.runDir);
    this.host = new StoreHost(d.swarm, d.log);
    this.secrets = new SecretService(() => this.manager().store, () => this.dataKey());
  }

  /**
   * The key secrets are encrypted with in etcd. It lives on managers' disks
   * only (handed to a new manager over the mutually authenticated join), so
   * etcd's data alone does not reveal a secret.
   */
  private dataKey(): Buffer {
    if (!this.keys.dataKey) throw new ApiError(503, 'this manager has no data key for secrets');
    return this.keys.dataKey;
  }

  private async saveDataKey(key: string): Promise<void> {
    await this.keys.set({ dataKey: Buffer.from(key, 'base64') });
  }

  /** The cluster CA from the store: its key is sealed with the data key, so etcd's files alone do not give it away. */
  private async readCa(store: ClusterStore): Promise<KeyPair> {
    const ca = (await store.get<KeyPair & { sealed?: boolean }>('ca'))!.value;
    return ca.sealed ? { cert: ca.cert, key: decrypt(this.dataKey(), ca.key).toString('utf8') } : ca;
  }

  private sealCa(ca: KeyPair, prev?: string[]): CaRecord {
    return { cert: ca.cert, key: encrypt(this.dataKey(), Buffer.from(ca.key)), sealed: true, ...(prev?.length ? { prev } : {}) };
  }

  /** The root nodes get certificates from and the roots they trust (the old ones too while a rotation goes on). */
  private async caView(store: ClusterStore): Promise<{ root: string; trust: string }> {
    const ca = (await store.get<CaRecord>('ca'))!.value;
    return { root: ca.cert, trust: [ca.cert, ...(ca.prev ?? [])].join('') };
  }

  /** The nodes a rotation waits for: all but those that left. */
  private async rotatingNodes(store: ClusterStore): Promise<NodeRecord[]> {
    return (await store.list<NodeRecord>('nodes/')).map((n) => n.value).filter((n) => !n.Berth?.left);
  }

  // ---- lifecycle ---------------------------------------------------------------

  /** At berthd start: rejoin the swarm this node was part of. */
  async restore(): Promise<void> {
    const file = path.join(this.dir, 'state.json');
    if (!fs.existsSync(file)) return;
    this.state = JSON.parse(await fs.promises.readFile(file, 'utf8')) as LocalState;
    await this.keys.load();
    if (this.keys.locked) {
      this.d.log('warn', 'swarm: this manager is locked (autolock): run "swarm unlock" with the unlock key');
      return;
    }
    this.tls = await this.readTls();
    try {
      await this.activate();
    } catch (e) {
      this.d.log('error', `rejoining the swarm: ${errorMessage(e)}`);
    }
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.deactivate();
    // etcd is gone with it: no copy of the key waits in the exec root for the next start
    await this.keys.removeEtcdKeyFile();
  }

  get nodeId(): string | undefined {
    return this.state?.nodeId;
  }

  get isManager(): boolean {
    return this.state?.role === 'manager' && !!this.store;
  }

  /** The store of a manager; the docker error texts otherwise. */
  manager(): { store: ClusterStore; selfId: string; leaderId: () => string | undefined; dispatcher: Dispatcher } {
    if (!this.state) throw errNotManagerNoSwarm();
    if (this.keys.locked) throw errSwarmLocked();
    if (this.state.role !== 'manager' || !this.store || !this.dispatcher) throw errNotManagerWorker();
    return { store: this.store, selfId: this.state.nodeId, leaderId: () => this.leaderId, dispatcher: this.dispatcher };
  }

  private async readTls(): Promise<PeerTls> {
    const r = (f: string) => fs.promises.readFile(path.join(this.dir, f), 'utf8');
    return { ca: await r('ca.crt'), cert: await r('node.crt'), key: this.keys.nodeKey ?? '' };
  }

  private async saveState(): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path.join(this.dir, 'state.json'), JSON.stringify(this.state, null, 2));
  }

  private async saveTls(tls: PeerTls): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path.join(this.dir, 'ca.crt'), tls.ca);
    await writeFileAtomic(path.join(this.dir, 'node.crt'), tls.cert);
    await this.keys.set({ nodeKey: tls.key });
    this.tls = tls;
  }

  private async memberPlan(state: 'new' | 'existing') {
    const st = this.state!;
    return { nodeId: st.nodeId, clusterId: st.clusterId, advertiseAddr: st.advertiseAddr, dir: this.dir, initialCluster: st.initialCluster, state, keyFile: await this.keys.etcdKeyFile() };
  }

  private async activate(): Promise<void> {
    const st = this.state!;
    const tls = this.tls!;
    if (st.role === 'manager') {
      this.store = await this.host.open(await this.memberPlan(st.etcdState ?? 'new'), tls);
      this.watchUnlockKey(this.store);
      this.dispatcher = new Dispatcher(this.store, this.d.log, (tasks) => this.secrets.payloadsFor(tasks));
      this.startCampaign();
    }
    this.server = new PeerServer((req, res) => this.handlePeer(req, res), this.d.log);
    await this.server.listen(st.listenAddr, st.port, tls);
    const withAttachments = (req: HeartbeatRequest): HeartbeatRequest => (this.d.attachments ? { ...req, attachments: this.d.attachments() } : req);
    const remote = (req: HeartbeatRequest) => this.remoteHeartbeat(withAttachments(req));
    const local = (req: HeartbeatRequest) => this.heartbeat(st.nodeId, withAttachments(req));
    this.agent = new Agent({
      nodeId: st.nodeId,
      runtime: this.d.runtime,
      heartbeat: st.role === 'manager' ? local : remote,
      description: () => this.description(),
      onReply: (r) => this.onHeartbeatReply(r),
      log: this.d.log,
    });
    this.agent.start();
  }

  /**
   * `keepStore`: the etcd member stops but the store client stays in place (and is returned for
   * the caller to close), so API calls meanwhile wait for the member to come back instead of
   * failing — see reloadTls.
   */
  private async deactivate(keepStore = false): Promise<ClusterStore | undefined> {
    await this.agent?.stop();
    this.agent = undefined;
    this.reconciler?.stop();
    this.reconciler = undefined;
    const c = this.campaign;
    this.campaign = undefined;
    if (c) await c.resign().catch(() => undefined);
    await this.server?.close();
    this.server = undefined;
    const store = this.store;
    const unwatch = this.unwatchUnlockKey;
    this.unwatchUnlockKey = undefined;
    await unwatch?.().catch(() => undefined);
    this.leaderId = undefined;
    if (keepStore) {
      await this.host.close(undefined);
      return store;
    }
    this.store = undefined;
    this.dispatcher = undefined;
    await this.host.close(store);
    return undefined;
  }

  private startCampaign(): void {
    const store = this.store;
    if (!store || this.stopped) return;
    const election = store.election('leader', 3);
    const campaign = election.campaign(this.state!.nodeId);
    this.campaign = campaign;
    campaign.on('elected', () => {
      if (this.campaign !== campaign) return;
      this.d.log('info', `swarm: this node (${this.state?.nodeId}) is the leader`);
      this.leaderId = this.state!.nodeId;
      this.reconciler?.stop();
      this.reconciler = new Reconciler(store, this.d.log);
      this.reconciler.start();
    });
    campaign.on('error', (e: Error) => {
      if (this.campaign !== campaign) return;
      this.d.log('warn', `swarm: leader campaign failed: ${e.message}; campaigning again`);
      this.reconciler?.stop();
      this.reconciler = undefined;
      this.campaign = undefined;
      setTimeout(() => {
        if (this.store === store && !this.campaign) this.startCampaign();
      }, 1000).unref();
    });
    // Followers learn who leads by watching the election.
    const poll = async () => {
      while (this.store === store && !this.stopped) {
        try {
          this.leaderId = (await election.leader()) ?? undefined;
        } catch {
          /* etcd unreachable for the moment */
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void poll();
  }

  private description(): Obj {
    return {
      Hostname: os.hostname(),
      Platform: { Architecture: os.machine(), OS: 'linux' },
      Resources: { NanoCPUs: os.cpus().length * 1e9, MemoryBytes: os.totalmem() },
      Engine: { EngineVersion: this.d.engineVersion, Labels: {}, Plugins: [{ Type: 'Log', Name: 'json-file' }, { Type: 'Network', Name: 'bridge' }, { Type: 'Network', Name: 'host' }, { Type: 'Network', Name: 'null' }] },
      TLSInfo: this.tlsInfo(),
    };
  }

  /** This node's TLSInfo: the roots it trusts and the one that issued its certificate (what `swarm ca --rotate` counts). */
  private tlsInfo(): Obj {
    const tls = this.tls;
    const root = tls && (issuingRoot(tls.cert, tls.ca) ?? certsIn(tls.ca)[0]);
    return { ...(root ? rootTlsInfo(root) : { CertIssuerSubject: '', CertIssuerPublicKey: '' }), TrustRoot: tls?.ca ?? '' };
  }

  private switching = false;
  private renewing = false;

  private onHeartbeatReply(r: HeartbeatReply): void {
    const st = this.state;
    if (!st) return;
    this.d.overlay?.apply(r.overlay, st.nodeId, st.advertiseAddr);
    if (r.ca && this.tls && !this.renewing && !this.switching && (r.ca.trust !== this.tls.ca || (r.ca.renew && !issuingRoot(this.tls.cert, r.ca.root)))) {
      // A root CA rotation: trust what the managers trust, with a certificate from the new root.
      this.renewing = true;
      const view = r.ca;
      void this.serial(() => this.adoptRoot(view))
        .catch((e) => this.d.log('warn', `swarm: moving to the new root CA: ${errorMessage(e)}`))
        .finally(() => (this.renewing = false));
    }
    if (r.role !== st.role && !this.switching) {
      // `node promote|demote` changed this node's role: take it up (or give it up) here.
      this.switching = true;
      void this.serial(() => (r.role === 'manager' ? this.becomeManager() : this.becomeWorker()))
        .catch((e) => this.d.log('warn', `swarm: changing this node's role to ${r.role}: ${errorMessage(e)}`))
        .finally(() => (this.switching = false));
    }
    if (r.managers.length && JSON.stringify(r.managers) !== JSON.stringify(st.managers)) {
      st.managers = r.managers;
      void this.saveState().catch((e) => this.d.log('warn', `saving swarm state: ${errorMessage(e)}`));
    }
  }

  /** A worker's heartbeat goes to the first manager that answers. */
  private async remoteHeartbeat(req: HeartbeatRequest): Promise<HeartbeatReply> {
    const st = this.state!;
    let last: unknown;
    for (const m of st.managers) {
      try {
        const r = await peerCall<HeartbeatReply>(m, 'POST', '/heartbeat', req, this.tls!, 5000);
        // The one that answered first stays first.
        if (st.managers[0] !== m) st.managers = [m, ...st.managers.filter((x) => x !== m)];
        return r;
      } catch (e) {
        last = e;
      }
    }
    throw new Error(`no manager reachable: ${errorMessage(last)}`);
  }

  /** Every heartbeat goes through here: the dispatcher's answer plus the CA view; a rotation ends here once all nodes moved. */
  private async heartbeat(nodeId: string, req: HeartbeatRequest): Promise<HeartbeatReply> {
    const { store, dispatcher } = this.manager();
    const reply = await dispatcher.heartbeat(nodeId, req);
    const ca: NonNullable<HeartbeatReply['ca']> = await this.caView(store);
    if (ca.trust !== ca.root) {
      // Certificates from the new root only once every node trusts it: an etcd member reads its
      // trusted roots when it starts, so one restarted with a new certificate before the others
      // trust its root would be shut out and take the quorum with it.
      ca.renew = (await this.rotatingNodes(store)).every((n) => n.Description?.TLSInfo?.TrustRoot === ca.trust);
      if (ca.renew) await this.finishRotation(store).catch((e) => this.d.log('warn', `swarm: finishing the root CA rotation: ${errorMessage(e)}`));
    }
    return { ...reply, ca };
  }

  /**
   * The old roots are dropped once every node (but those that left) reports a certificate
   * from the new root; nodes then trust the new root alone.
   */
  private async finishRotation(store: ClusterStore): Promise<void> {
    const cur = await store.get<CaRecord>('ca');
    if (!cur?.value.prev?.length) return;
    const want = rootTlsInfo(cur.value.cert).CertIssuerPublicKey;
    const nodes = await this.rotatingNodes(store);
    if (!nodes.every((n) => n.Description?.TLSInfo?.CertIssuerPublicKey === want)) return;
    const { prev: _old, ...rest } = cur.value;
    if (!(await store.replace('ca', rest, cur.version))) return;
    await store.update<ClusterRecord>('cluster', (c) => (c.RootRotationInProgress ? { ...c, RootRotationInProgress: false, UpdatedAt: now() } : undefined));
    this.d.log('info', 'swarm: root CA rotation complete: every node has a certificate from the new root');
  }

  /**
   * A node's new certificate from the current root. A manager's only when both its current
   * certificate and its spec say manager: a promotion or demotion under way finishes its own way.
   */
  private async signRenewal(nodeId: string, role: 'manager' | 'worker', csr: string): Promise<string> {
    const { store } = this.manager();
    const cluster = (await store.get<ClusterRecord>('cluster'))?.value;
    const node = await store.get<NodeRecord>(`nodes/${nodeId}`);
    if (!cluster || !node || node.value.Berth?.left) throw new ApiError(404, `node ${nodeId} not found`);
    const granted = role === 'manager' && node.value.Spec.Role === 'manager' ? 'manager' : 'worker';
    return signNodeCsr(await this.readCa(store), csr, { nodeId, role: granted, clusterId: cluster.ID, ips: [node.value.Berth.addr], days: certDays(cluster) });
  }

  /**
   * Takes up the roots a manager announced: a certificate from the new root when this node's
   * is from an old one (signed by this manager itself, else asked of one), then the swarm parts
   * restart with the new files — etcd reads its trusted CA file only when it starts.
   */
  private async adoptRoot(view: NonNullable<HeartbeatReply['ca']>): Promise<void> {
    const st = this.state;
    const tls = this.tls;
    if (!st || !tls) return;
    let { cert, key } = tls;
    // First the roots to trust; a new certificate once every node trusts the new root.
    const renew = view.renew && tls.ca === view.trust && !issuingRoot(cert, view.root);
    if (tls.ca === view.trust && !renew) return;
    if (renew) {
      const kc = await createKeyAndCsr();
      key = kc.key;
      if (this.store) cert = await this.signRenewal(st.nodeId, st.role, kc.csr);
      else {
        let last: unknown;
        let got: string | undefined;
        for (const m of st.managers) {
          try {
            got = (await peerCall<{ cert: string }>(m, 'POST', '/renew', { csr: kc.csr }, { ...tls, ca: view.trust }, 30_000)).cert;
            break;
          } catch (e) {
            last = e;
          }
        }
        if (!got) throw new Error(`no manager renewed the certificate: ${errorMessage(last)}`);
        cert = got;
      }
      if (!issuingRoot(cert, view.root)) throw new Error('the renewed certificate is not from the new root CA');
    }
    await this.reloadTls({ ca: view.trust, cert, key });
    this.d.log('info', renew ? 'swarm: this node has a certificate from the new root CA' : `swarm: this node now trusts ${certsIn(view.trust).length} root CA(s)`);
  }

  /**
   * Restarts the swarm parts with new TLS files. On a manager the old store client stays in
   * use while the etcd member restarts: its credentials are still good against the restarted
   * member (each step of a rotation changes either what is trusted or the certificate, and
   * the client of the step before trusts and is trusted by both), so API calls in the gap
   * wait for the member instead of failing (docker's CLI does not retry while it follows a
   * rotation). The new client replaces it once the member is up.
   */
  private reloadTls(tls: PeerTls): Promise<void> {
    const p = this.doReloadTls(tls);
    this.reloading = p.catch(() => undefined);
    return p;
  }

  private reloading: Promise<void> = Promise.resolve();

  /**
   * Resolves once no reload of the swarm parts is under way: the manager's etcd member is
   * down for a second or two then, and docker's CLI, following a rotation, gives up at the
   * first error, so its reads (`/swarm`, `/nodes`) wait instead.
   */
  settled(): Promise<void> {
    return this.reloading;
  }

  private async doReloadTls(tls: PeerTls): Promise<void> {
    const old = await this.deactivate(true);
    try {
      await this.saveTls(tls);
      await this.activate();
    } catch (e) {
      if (this.store === old) {
        this.store = undefined;
        this.dispatcher = undefined;
      }
      throw e;
    } finally {
      if (old && this.store !== old) old.close();
    }
  }

  /** A promoted worker: a manager certificate and an etcd membership from a manager, then the manager's parts. */
  private async becomeManager(): Promise<void> {
    const st = this.state;
    if (!st || st.role === 'manager') return;
    const { key, csr } = await createKeyAndCsr();
    let r: Obj | undefined;
    let last: unknown;
    for (const m of st.managers) {
      try {
        r = await peerCall<Obj>(m, 'POST', '/promote', { csr, etcdPeerPort: this.d.swarm.etcdPeerPort, etcdClientPort: this.d.swarm.etcdClientPort, externalEtcd: this.host.external }, this.tls!, 30_000);
        break;
      } catch (e) {
        last = e;
      }
    }
    if (!r) throw new Error(`no manager took the promotion: ${errorMessage(last)}`);
    await this.deactivate();
    await fs.promises.rm(path.join(this.dir, 'etcd'), { recursive: true, force: true });
    await this.saveTls({ ca: this.tls!.ca, cert: r.cert, key });
    await this.saveDataKey(r.dataKey);
    Object.assign(st, { role: 'manager', initialCluster: r.initialCluster, etcdState: 'existing' });
    await this.saveState();
    await this.activate();
    this.d.log('info', `swarm: this node is now a manager`);
  }

  /** A demoted manager: leaves the etcd cluster and carries on as a worker with a worker certificate. */
  private async becomeWorker(): Promise<void> {
    const st = this.state;
    const store = this.store;
    if (!st || st.role === 'worker' || !store) return;
    const ca = await this.readCa(store);
    const { key, csr } = await createKeyAndCsr();
    const cert = await signNodeCsr(ca, csr, { nodeId: st.nodeId, role: 'worker', clusterId: st.clusterId, ips: [st.advertiseAddr], days: certDays((await store.get<ClusterRecord>('cluster'))?.value) });
    const managers = (await this.dispatcher!.managerAddrs()).filter((a) => a !== `${st.advertiseAddr}:${st.port}`);
    if (!managers.length) throw new Error('no other manager to turn to');
    await store.update<NodeRecord>(`nodes/${st.nodeId}`, (n) => {
      const { ManagerStatus: _m, ...rest } = n;
      return rest;
    });
    await this.host.removeMember(store, st.nodeId);
    await this.deactivate();
    await fs.promises.rm(path.join(this.dir, 'etcd'), { recursive: true, force: true });
    await this.saveTls({ ca: this.tls!.ca, cert, key });
    await this.keys.set({ dataKey: null });
    // autolock is for managers: a worker's key is stored plain
    await this.keys.setUnlockKey(undefined);
    Object.assign(st, { role: 'worker', managers, initialCluster: undefined, etcdState: undefined });
    await this.saveState();
    await this.activate();
    this.d.log('info', `swarm: this node is now a worker`);
  }

  /** A manager's answer to a promoted worker: its manager certificate and a place in the etcd cluster. */
  private async acceptPromotion(nodeId: string, body: Obj): Promise<Obj> {
    const { store } = this.manager();
    const cluster = (await store.get<ClusterRecord>('cluster'))!.value;
    const node = await store.get<NodeRecord>(`nodes/${nodeId}`);
    if (!node || node.value.Spec.Role !== 'manager') throw new ApiError(403, `node ${nodeId} is not to be a manager`);
    const addr = node.value.Berth.addr;
    const ca = await this.readCa(store);
    const cert = await signNodeCsr(ca, String(body.csr), { nodeId, role: 'manager', clusterId: cluster.ID, ips: [addr], days: certDays(cluster) });
    this.checkSameStore(!!body.externalEtcd);
    await store.update<NodeRecord>(`nodes/${nodeId}`, (n) => ({
      ...n,
      ManagerStatus: { Reachability: 'reachable', Addr: `${addr}:${n.Berth.port}` },
      Berth: { ...n.Berth, etcdPeerPort: Number(body.etcdPeerPort), etcdClientPort: Number(body.etcdClientPort) },
    }));
    // The member add comes last: from then on the quorum needs the new member.
    const initialCluster = await this.host.addMember(store, nodeId, addr, Number(body.etcdPeerPort));
    return { cert, initialCluster, dataKey: this.dataKey().toString('base64') };
  }

  // ---- cluster endpoint ---------------------------------------------------------------

  private async handlePeer(req: PeerRequest, res: ServerResponse): Promise<unknown> {
    const st = this.state;
    if (!st) throw new ApiError(503, 'node is not part of a swarm');
    const key = `${req.method} ${req.path}`;
    // The root a joiner checks against its token's digest: the signing one, also while old roots are still trusted.
    if (key === 'GET /ca') return { ca: this.store ? (await this.caView(this.store)).root : certsIn(this.tls!.ca)[0] };
    if (key === 'POST /join') return this.acceptJoin(await req.body());
    // Everything else needs a certificate of this cluster.
    if (!req.peer || req.peer.clusterId !== st.clusterId) throw new ApiError(403, 'a node certificate of this cluster is required');
    if (key === 'POST /heartbeat') return this.heartbeat(req.peer.nodeId, await req.body());
    if (key === 'POST /renew') {
      const body = await req.body();
      return { cert: await this.signRenewal(req.peer.nodeId, req.peer.role ?? 'worker', String(body?.csr ?? '')) };
    }
    if (key === 'POST /promote') return this.acceptPromotion(req.peer.nodeId, await req.body());
    if (key === 'GET /networks') return listNetworks(this.manager().store);
    if (key === 'POST /leave') {
      await this.manager().dispatcher.nodeLeft(req.peer.nodeId);
      return {};
    }
    if (key === 'GET /logs') {
      if (req.peer.role !== 'manager') throw new ApiError(403, 'only managers read task logs');
      await this.d.runtime.streamLogs(req.query.get('task') ?? '', req.query, res);
      return undefined;
    }
    throw new ApiError(404, `no cluster endpoint ${key}`);
  }

  /** Every manager of a swarm keeps its state the same way: all in their own etcd members, or all in one external etcd. */
  private checkSameStore(joinerExternal: boolean): void {
    if (joinerExternal === this.host.external) return;
    throw new ApiError(400, this.host.external
      ? 'this swarm keeps its state in an external etcd cluster: start berthd with the same --swarm-external-etcd to join it as a manager'
      : 'this swarm keeps its state in etcd members its managers run: start berthd without --swarm-external-etcd to join it as a manager');
  }

  private async acceptJoin(body: Obj): Promise<Obj> {
    const { store } = this.manager();
    const cluster = (await store.get<ClusterRecord>('cluster'))?.value;
    if (!cluster) throw new ApiError(503, 'cluster state unavailable');
    const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
    const token = String(body.token ?? '');
    const role = same(token, cluster.JoinTokens.Manager) ? 'manager' : same(token, cluster.JoinTokens.Worker) ? 'worker' : undefined;
    if (!role) throw new ApiError(400, 'rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster');
    if (role === 'manager') this.checkSameStore(!!body.externalEtcd);
    const ca = await this.readCa(store);
    const nodeId = newId();
    const addr = String(body.addr);
    const cert = await signNodeCsr(ca, String(body.csr), { nodeId, role, clusterId: cluster.ID, ips: [addr], days: certDays(cluster) });
    const t = now();
    const node: NodeRecord = {
      ID: nodeId,
      Version: { Index: 0 },
      CreatedAt: t,
      UpdatedAt: t,
      Spec: { Labels: {}, Role: role, Availability: body.availability ?? 'active' },
      Description: body.description ?? {},
      Status: { State: 'ready', Addr: addr },
      Berth: { addr, port: Number(body.port), etcdPeerPort: body.etcdPeerPort, etcdClientPort: body.etcdClientPort },
    };
    let initialCluster: string | undefined;
    if (role === 'manager') node.ManagerStatus = { Reachability: 'reachable', Addr: `${addr}:${body.port}` };
    await store.put(`nodes/${nodeId}`, node);
    const managers = await this.manager().dispatcher.managerAddrs();
    if (role === 'manager') {
      // Last: from here the cluster needs the new member for a quorum, so no writes until it runs.
      initialCluster = await this.host.addMember(store, nodeId, addr, Number(body.etcdPeerPort));
    }
    return { nodeId, clusterId: cluster.ID, role, cert, ca: ca.cert, managers, initialCluster, ...(role === 'manager' ? { dataKey: this.dataKey().toString('base64') } : {}) };
  }

  // ---- API operations ---------------------------------------------------------------

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.busy.then(fn, fn);
    this.busy = p.catch(() => undefined);
    return p;
  }

  init(body: Obj): Promise<string> {
    return this.serial(async () => {
      if (this.state) throw errSwarmExists();
      const { listenAddr, port } = parseListenAddr(body.ListenAddr);
      const advertiseAddr = resolveAdvertiseAddr(body.AdvertiseAddr, listenAddr);
      const dataPort = dataPathPort(body.DataPathPort);
      const spec = mergeSpec(defaultClusterSpec(), body.Spec ?? {});
      const ca = await createRootCA();
      const nodeId = newId();
      const clusterId = newId();
      const { key, csr } = await createKeyAndCsr();
      const cert = await signNodeCsr(ca, csr, { nodeId, role: 'manager', clusterId, ips: [advertiseAddr], days: certDays({ Spec: spec } as ClusterRecord) });
      // Starting afresh: wipe whatever an earlier swarm left.
      await fs.promises.rm(this.dir, { recursive: true, force: true });
      await this.saveTls({ ca: ca.cert, cert, key });
      await this.saveDataKey(randomBytes(32).toString('base64'));
      this.state = { nodeId, clusterId, role: 'manager', advertiseAddr, listenAddr, port, managers: [`${advertiseAddr}:${port}`], etcdState: 'new' };
      try {
        await this.activateFirstManager(ca, spec, { ...body, DataPathPort: dataPort });
        await this.saveState();
      } catch (e) {
        await this.deactivate();
        this.state = undefined;
        await fs.promises.rm(this.dir, { recursive: true, force: true });
        throw e;
      }
      return nodeId;
    });
  }

  private async activateFirstManager(ca: KeyPair, spec: Obj, body: Obj): Promise<void> {
    const st = this.state!;
    // The store must hold the cluster before the agent's first heartbeat.
    const store = await this.host.open(await this.memberPlan('new'), this.tls!);
    try {
      const t = now();
      await store.put('ca', this.sealCa(ca));
      if (spec.EncryptionConfig?.AutoLockManagers) await store.put(UNLOCK_KEY, { key: newUnlockKey() });
      const cluster: ClusterRecord = {
        ID: st.clusterId, CreatedAt: t, UpdatedAt: t, Spec: spec, TLSInfo: rootTlsInfo(ca.cert), RootRotationInProgress: false,
        DefaultAddrPool: body.DefaultAddrPool?.length ? body.DefaultAddrPool : ['10.0.0.0/8'], SubnetSize: body.SubnetSize || 24,
        DataPathPort: body.DataPathPort,
        JoinTokens: { Worker: makeJoinToken(ca.cert), Manager: makeJoinToken(ca.cert) },
      };
      await store.put('cluster', cluster);
      const node: NodeRecord = {
        ID: st.nodeId, Version: { Index: 0 }, CreatedAt: t, UpdatedAt: t,
        Spec: { Labels: {}, Role: 'manager', Availability: body.Availability || 'active' },
        Description: this.description(),
        Status: { State: 'ready', Addr: st.advertiseAddr },
        ManagerStatus: { Reachability: 'reachable', Addr: `${st.advertiseAddr}:${st.port}` },
        Berth: { addr: st.advertiseAddr, port: st.port, etcdPeerPort: this.d.swarm.etcdPeerPort, etcdClientPort: this.d.swarm.etcdClientPort },
      };
      await store.put(`nodes/${st.nodeId}`, node);
    } finally {
      await this.host.close(store);
    }
    st.etcdState = 'existing';
    await this.activate();
  }

  join(body: Obj): Promise<void> {
    return this.serial(async () => {
      if (this.state) throw errSwarmExists();
      const remotes: string[] = (body.RemoteAddrs ?? []).map((a: string) => (a.includes(':') ? a : `${a}:${DEFAULT_PORT}`));
      if (!remotes.length) throw badRequest('at least 1 RemoteAddr is required to join');
      const { digestHex } = parseJoinToken(String(body.JoinToken ?? ''));
      const { listenAddr, port } = parseListenAddr(body.ListenAddr);
      const advertiseAddr = resolveAdvertiseAddr(body.AdvertiseAddr, listenAddr, remotes[0]);
      let lastErr: unknown;
      for (const remote of remotes) {
        let ca: string;
        try {
          ca = await fetchRemoteCA(remote);
        } catch (e) {
          lastErr = new ApiError(503, `Timeout was reached before node joined. The attempt to join the swarm will continue in the background. Use the "docker info" command to see the current swarm status of your node. (${errorMessage(e)})`);
          continue;
        }
        const got = createHash('sha256').update(ca).digest('hex');
        if (got !== digestHex) throw new ApiError(500, `remote CA does not match fingerprint. Expected: ${digestHex}`);
        if (caDigest36(ca) !== String(body.JoinToken).split('-')[2]) throw new ApiError(500, `remote CA does not match fingerprint. Expected: ${digestHex}`);
        const { key, csr } = await createKeyAndCsr();
        const r = await peerCall<Obj>(remote, 'POST', '/join', {
          token: body.JoinToken, csr, addr: advertiseAddr, port, availability: body.Availability || 'active',
          description: this.description(), etcdPeerPort: this.d.swarm.etcdPeerPort, etcdClientPort: this.d.swarm.etcdClientPort, externalEtcd: this.host.external,
        }, { ca }, 30_000);
        await fs.promises.rm(this.dir, { recursive: true, force: true });
        await this.saveTls({ ca, cert: r.cert, key });
        if (r.dataKey) await this.saveDataKey(r.dataKey);
        this.state = {
          nodeId: r.nodeId, clusterId: r.clusterId, role: r.role, advertiseAddr, listenAddr, port, managers: r.managers?.length ? r.managers : [remote],
          initialCluster: r.initialCluster, etcdState: r.role === 'manager' ? 'existing' : undefined,
        };
        await this.saveState();
        try {
          await this.activate();
        } catch (e) {
          await this.deactivate();
          throw e;
        }
        return;
      }
      throw lastErr;
    });
  }

  leave(force: boolean): Promise<void> {
    return this.serial(async () => {
      const st = this.state;
      if (!st) throw errNoSwarm();
      if (this.keys.locked && !force) throw errSwarmLocked();
      if (st.role === 'manager' && this.store && !force) {
        const managers = (await this.store.list<NodeRecord>('nodes/')).filter((n) => n.value.Spec.Role === 'manager');
        if (managers.length <= 1) {
          throw new ApiError(503, 'You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.');
        }
        const reachable = managers.length;
        if (reachable - 1 < Math.floor(reachable / 2) + 1) {
          throw new ApiError(503, `You are attempting to leave the swarm on a node that is participating as a manager. Removing this node leaves ${reachable - 1} managers out of ${reachable}. Without a Raft quorum your swarm will be inaccessible. The only way to restore a swarm that has lost consensus is to reinitialize it with \`--force-new-cluster\`. Use \`--force\` to suppress this message.`);
        }
      }
      try {
        if (st.role === 'manager' && this.store) {
          await this.dispatcher!.nodeLeft(st.nodeId);
          await this.host.removeMember(this.store, st.nodeId);
        } else if (st.role === 'worker') {
          for (const m of st.managers) {
            if (await peerCall(m, 'POST', '/leave', {}, this.tls!, 5000).then(() => true, () => false)) break;
          }
        }
      } catch (e) {
        if (!force) throw e;
      }
      await this.agent?.removeAll();
      await this.d.overlay?.clear().catch((e) => this.d.log('warn', `swarm: removing the overlay data plane: ${errorMessage(e)}`));
      await this.deactivate();
      this.state = undefined;
      this.tls = undefined;
      await this.keys.clear();
      await fs.promises.rm(this.dir, { recursive: true, force: true });
    });
  }

  async inspect(): Promise<Obj> {
    await this.settled();
    const { store } = this.manager();
    const c = await store.get<ClusterRecord>('cluster');
    if (!c) throw new ApiError(503, 'cluster state unavailable');
    return { ...c.value, Version: { Index: c.version } };
  }

  async update(version: number | undefined, spec: Obj, rotate: { worker: boolean; manager: boolean; unlockKey?: boolean }): Promise<void> {
    const { store } = this.manager();
    const c = await store.get<ClusterRecord>('cluster');
    if (!c) throw new ApiError(503, 'cluster state unavailable');
    if (version !== undefined && version !== c.version) throw new ApiError(500, 'rpc error: code = Unknown desc = update out of sequence');
    const curCa = (await store.get<CaRecord>('ca'))!.value;
    const next: ClusterRecord = { ...c.value, Spec: mergeSpec(defaultClusterSpec(), spec ?? {}), UpdatedAt: now() };
    next.Spec.Name = 'default';
    const newRoot = await this.requestedRoot(c.value.Spec.CAConfig ?? {}, next.Spec.CAConfig ?? {}, curCa.cert);
    // the signing root's key is never shown back, nor kept in the spec
    const { SigningCACert: _c, SigningCAKey: _k, ...caConfig } = next.Spec.CAConfig ?? {};
    const force = Math.max(Number(c.value.Spec.CAConfig?.ForceRotate ?? 0), Number(caConfig.ForceRotate ?? 0));
    // docker leaves ForceRotate out while it is 0
    const { ForceRotate: _f, ...restCa } = caConfig;
    next.Spec.CAConfig = force > 0 ? { ...restCa, ForceRotate: force } : restCa;
    const root = newRoot?.cert ?? curCa.cert;
    if (rotate.worker || newRoot) next.JoinTokens = { ...next.JoinTokens, Worker: makeJoinToken(root) };
    if (rotate.manager || newRoot) next.JoinTokens = { ...next.JoinTokens, Manager: makeJoinToken(root) };
    const autolock = !!next.Spec.EncryptionConfig?.AutoLockManagers;
    if (rotate.unlockKey && !autolock) throw badRequest('cannot rotate because autolock is not turned on');
    const also: Array<[string, unknown]> = [];
    if (newRoot) {
      // A root rotation: the new root signs from now on; the old ones stay trusted until every node moved.
      next.RootRotationInProgress = true;
      next.TLSInfo = rootTlsInfo(newRoot.cert);
      const prev = [...new Set([curCa.cert, ...(curCa.prev ?? [])])].filter((x) => x !== newRoot.cert);
      also.push(['ca', this.sealCa(newRoot, prev)]);
    }
    if (!(await store.replaceWith('cluster', next, c.version, also))) throw new ApiError(500, 'rpc error: code = Unknown desc = update out of sequence');
    if (newRoot) this.d.log('info', 'swarm: root CA rotation started');
    const cur = await store.get<{ key: string }>(UNLOCK_KEY);
    if (autolock && (!cur || rotate.unlockKey)) await store.put(UNLOCK_KEY, { key: newUnlockKey() });
    if (!autolock && cur) await store.delete(UNLOCK_KEY);
    // this manager at once; the others through their watch
    await this.applyUnlockKey(store);
  }

  /**
   * The root a `swarm update` asks to rotate to: the one given (SigningCACert with its
   * SigningCAKey) when it differs from the current one, a new one when ForceRotate went up;
   * otherwise none.
   */
  private async requestedRoot(cur: Obj, want: Obj, curRoot: string): Promise<KeyPair | undefined> {
    const cert = String(want.SigningCACert ?? '').trim();
    const key = String(want.SigningCAKey ?? '').trim();
    if (want.ExternalCAs?.length && (cert || Number(want.ForceRotate ?? 0) > Number(cur.ForceRotate ?? 0))) {
      throw badRequest('rotating to an external CA is not supported');
    }
    if (cert) {
      if (!key) throw badRequest('rotating to an external CA is not supported: the root CA key (SigningCAKey) is required with SigningCACert');
      let given: KeyPair;
      try {
        given = checkRootCA(cert, key + '\n');
      } catch (e) {
        throw badRequest(`invalid root CA: ${errorMessage(e)}`);
      }
      return given.cert === curRoot ? undefined : given;
    }
    if (key) throw badRequest('a root CA key (SigningCAKey) was given without its certificate (SigningCACert)');
    if (Number(want.ForceRotate ?? 0) > Number(cur.ForceRotate ?? 0)) return createRootCA();
    return undefined;
  }

  /** GET /swarm/unlockkey: the key while autolock is on, else empty. */
  async unlockKey(): Promise<string> {
    const { store } = this.manager();
    return (await store.get<{ key: string }>(UNLOCK_KEY))?.value.key ?? '';
  }

  /** POST /swarm/unlock: a locked manager takes its keys back and rejoins. */
  unlock(key: string): Promise<void> {
    return this.serial(async () => {
      if (!this.state) throw errNoSwarm();
      if (!this.keys.locked) throw new ApiError(409, 'swarm is not locked');
      try {
        await this.keys.unlock(key);
      } catch (e) {
        if (e instanceof InvalidUnlockKey) throw badRequest(e.message);
        throw e;
      }
      this.tls = await this.readTls();
      await this.activate();
    });
  }

  private applying: Promise<void> = Promise.resolve();

  /**
   * Seals (or unseals) this manager's keys as the swarm's autolock setting says now. One at a
   * time, each reading the store when its turn comes: an apply that read an older setting
   * must not finish after one that read the newer.
   */
  private applyUnlockKey(store: ClusterStore): Promise<void> {
    const run = async () => {
      if (this.state?.role !== 'manager') return;
      const rec = await store.get<{ key: string }>(UNLOCK_KEY);
      await this.keys.setUnlockKey(rec?.value.key);
    };
    const p = this.applying.then(run, run);
    this.applying = p.catch(() => undefined);
    return p;
  }

  private unwatchUnlockKey?: () => Promise<void>;

  private watchUnlockKey(store: ClusterStore): void {
    const apply = () => void this.applyUnlockKey(store).catch((e) => this.d.log('warn', `swarm: applying the autolock setting: ${errorMessage(e)}`));
    store.watch(UNLOCK_KEY, apply).then(
      (cancel) => {
        // a watch outliving its store retries on the closed client for ever
        if (this.store === store) this.unwatchUnlockKey = cancel;
        else void cancel().catch(() => undefined);
        apply();
      },
      (e) => this.d.log('warn', `swarm: watching the unlock key: ${errorMessage(e)}`),
    );
  }

  /** The Swarm block of GET /info. */
  async info(): Promise<Obj> {
    const st = this.state;
    if (!st) return { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null };
    if (this.keys.locked) return { NodeID: '', NodeAddr: '', LocalNodeState: 'locked', ControlAvailable: false, Error: '', RemoteManagers: null };
    const base: Obj = {
      NodeID: st.nodeId,
      NodeAddr: st.advertiseAddr,
      LocalNodeState: this.agent?.connected === false ? 'pending' : 'active',
      ControlAvailable: st.role === 'manager',
      Error: '',
      RemoteManagers: st.managers.map((a) => ({ NodeID: '', Addr: a })),
    };
    if (st.role !== 'manager' || !this.store) return base;
    try {
      const nodes = (await this.store.list<NodeRecord>('nodes/')).map((n) => n.value);
      const cluster = await this.inspect();
      base.RemoteManagers = nodes.filter((n) => n.Spec.Role === 'manager').map((n) => ({ NodeID: n.ID, Addr: `${n.Berth.addr}:${n.Berth.port}` }));
      base.Nodes = nodes.length;
      base.Managers = nodes.filter((n) => n.Spec.Role === 'manager').length;
      const { JoinTokens: _tokens, ...clusterInfo } = cluster;
      base.Cluster = clusterInfo;
    } catch (e) {
      base.Error = errorMessage(e);
    }
    return base;
  }

  /**
   * The swarm networks as the managers have them now: a manager reads its
   * store, a worker asks a manager (as docker's worker asks for a network
   * attachment), so a network made a moment ago is found before the next
   * heartbeat brings it. Not in a swarm: none.
   */
  async currentNetworks(): Promise<SwarmNetwork[]> {
    const st = this.state;
    if (!st) return [];
    if (this.isManager) return listNetworks(this.manager().store);
    let last: unknown;
    for (const m of st.managers) {
      try {
        return await peerCall<SwarmNetwork[]>(m, 'GET', '/networks', undefined, this.tls!, 5000);
      } catch (e) {
        last = e;
      }
    }
    throw new Error(`no manager reachable: ${errorMessage(last)}`);
  }

  /** Logs of a task, wherever it runs: here, or fetched from its node's endpoint. */
  async nodeEndpoint(nodeId: string): Promise<{ local: boolean; addr: string; tls: PeerTls }> {
    const { store, selfId } = this.manager();
    if (nodeId === selfId) return { local: true, addr: '', tls: this.tls! };
    const n = await store.get<NodeRecord>(`nodes/${nodeId}`);
    if (!n) throw new ApiError(404, `node ${nodeId} not found`);
    return { local: false, addr: `${n.value.Berth.addr}:${n.value.Berth.port}`, tls: this.tls! };
  }
}

function mergeSpec(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object') out[k] = { ...base[k], ...v };
    else if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

/**
 * The swarm's VXLAN UDP port (`--data-path-port`): 0 or none is 4789; else,
 * as dockerd, only registered ports (1024-49151), so it never collides with
 * a well-known service or the kernel's ephemeral range.
 */
function dataPathPort(v: unknown): number {
  const n = Number(v ?? 0);
  if (!n) return 4789;
  if (!Number.isInteger(n) || n < 1024 || n > 49151) throw badRequest(`Datapath port number is not in valid range (1024-49151) : ${String(v)}`);
  return n;
}

function parseListenAddr(v: unknown): { listenAddr: string; port: number } {
  const s = String(v || `0.0.0.0:${DEFAULT_PORT}`);
  const m = /^(.*?)(?::(\d+))?$/.exec(s)!;
  let host = m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = m[2] ? Number(m[2]) : DEFAULT_PORT;
  if (port < 1 || port > 65535) throw badRequest(`invalid listen address ${s}`);
  if (!/^[0-9.]+$/.test(host)) {
    const a = interfaceAddr(host);
    if (!a) throw badRequest(`failed to listen on remote API address: ${host}: no such interface or not an IP address`);
    host = a;
  }
  return { listenAddr: host, port };
}

function interfaceAddr(name: string): string | undefined {
  return os.networkInterfaces()[name]?.find((a) => a.family === 'IPv4')?.address;
}

/** dockerd's choice of the address other nodes reach this one on. */
function resolveAdvertiseAddr(v: unknown, listenAddr: string, remote?: string): string {
  let s = String(v ?? '').trim();
  if (s) {
    s = s.replace(/:\d+$/, '');
    if (/^[0-9.]+$/.test(s)) return s;
    const a = interfaceAddr(s);
    if (!a) throw badRequest(`advertise address must be a non-zero IP address or network interface (with optional port number)`);
    return a;
  }
  if (listenAddr !== '0.0.0.0') return listenAddr;
  const cands: Array<{ ip: string; ifname: string }> = [];
  for (const [ifname, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) cands.push({ ip: a.address, ifname });
  }
  if (remote) {
    // The interface on the remote's subnet, when there is one.
    const rip = remote.replace(/:\d+$/, '');
    const match = cands.find((c) => c.ip.split('.').slice(0, 3).join('.') === rip.split('.').slice(0, 3).join('.'));
    if (match) return match.ip;
  }
  if (cands.length === 1) return cands[0]!.ip;
  if (cands.length === 0) throw badRequest('could not find the system\'s IP address - specify one with --advertise-addr');
  throw badRequest(`could not choose an IP address to advertise since this system has multiple addresses on different interfaces (${cands[0]!.ip} on ${cands[0]!.ifname} and ${cands[1]!.ip} on ${cands[1]!.ifname})`);
}
