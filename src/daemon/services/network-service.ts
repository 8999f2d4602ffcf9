/**
 * Networks and container endpoints. CNI plugins (bridge, host-local,
 * portmap, loopback) do the plumbing; this service keeps the network
 * records, decides what each container gets, holds published host ports,
 * writes berthd's own iptables chains (isolation between networks,
 * --internal) and cleans up after containers that are gone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DaemonConfig, Layout } from '../config.js';
import { ApiError, badRequest, conflict, notFound, errorMessage } from '../errors.js';
import { NetworkStore, type NetworkRecord, type IpamPool } from '../stores/network-store.js';
import type { ContainerRecord, EndpointConfig } from '../stores/container-store.js';
import { writeFileAtomic } from '../stores/atomic-file.js';
import { cniAdd, cniDel, type CniNetwork, type CniResult } from '../system/cni.js';
import { createNetns, redirectDns, removeNetns } from '../system/netns.js';
import { ensureChain, setRules } from '../system/iptables.js';
import { reservePort, type Reservation } from '../system/port-reserve.js';
import { runHost } from '../system/host-command.js';
import { cidrAddress, cidrSize, contains, firstHost, formatCidr, hostRoutes, intToIp, overlaps, parseCidr, pickSubnet, within, type Cidr } from '../system/ipnet.js';
import type { EventBus } from './events.js';
import { EmbeddedDns, type DnsAnswerSource } from './dns-server.js';

export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: 'tcp' | 'udp' | 'sctp';
}

interface AttachedEndpoint {
  networkId: string;
  networkName: string;
  endpointId: string;
  ifname: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  aliases: string[];
  /** The exact chain ADD ran with, so DEL undoes it even if the network record changed. */
  cni: CniNetwork;
  capabilityArgs: Record<string, unknown>;
  result: CniResult;
}

/** What berthd remembers of a container's network namespace (exec root: gone after a reboot, like the namespace). */
interface EndpointState {
  containerId: string;
  netns: string;
  ports: PublishedPort[];
  endpoints: AttachedEndpoint[];
  /** Where the container's 127.0.0.11 points (user-defined networks). */
  dns?: { gateway: string; port: number };
}

/** The container side, as the network service needs to see it. */
export interface ContainerView {
  id: string;
  rec: ContainerRecord;
  running: boolean;
}
export interface ContainerAccess {
  find(ref: string): ContainerView;
  all(): ContainerView[];
  save(id: string): Promise<void>;
}

export interface NetworkSetup {
  /** Namespace to join; undefined: host networking or a private (none) namespace. */
  netnsPath?: string;
  /** The container's address on its first network (for /etc/hosts). */
  ip?: string;
  /** For --add-host host-gateway. */
  hostGatewayIp: string;
  /** Legacy --link entries for /etc/hosts. */
  linkHosts: string[];
  /** The embedded DNS server answers at 127.0.0.11 (user-defined networks). */
  internalDns?: boolean;
}

const PREDEFINED = new Set(['bridge', 'host', 'none']);
const LINK_PREFIX = 'br-';

export class NetworkService implements DnsAnswerSource {
  private store: NetworkStore;
  private dns: EmbeddedDns;
  private nets = new Map<string, NetworkRecord>();
  private states = new Map<string, EndpointState>();
  private reservations = new Map<string, Reservation[]>();
  private containers?: ContainerAccess;
  /** Serialises changes to networks and endpoints: IPAM and iptables are shared state. */
  private lock: Promise<void> = Promise.resolve();

  constructor(
    private d: { cfg: DaemonConfig; layout: Layout; events: EventBus; log: (level: string, msg: string) => void },
  ) {
    this.store = new NetworkStore(d.layout.networksDir);
    this.dns = new EmbeddedDns(this, d.log);
  }

  private get ncfg() {
    return this.d.cfg.network;
  }

  setContainers(c: ContainerAccess): void {
    this.containers = c;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  // ---- start-up -------------------------------------------------------------

  async init(): Promise<void> {
    const l = this.d.layout;
    for (const dir of [l.netnsDir, l.ipamDir, l.endpointsDir]) await fs.promises.mkdir(dir, { recursive: true, mode: 0o710 });
    for (const n of await this.store.loadAll()) this.nets.set(n.Id, n);
    for (const name of PREDEFINED) {
      let n = this.byName(name);
      if (!n) {
        n = this.newRecord(name, name === 'bridge' ? 'bridge' : name === 'host' ? 'host' : 'null');
        this.nets.set(n.Id, n);
      }
      if (name === 'bridge') this.applyDefaultBridge(n);
      await this.store.save(n);
    }
    for (const f of await fs.promises.readdir(l.endpointsDir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const st = JSON.parse(await fs.promises.readFile(path.join(l.endpointsDir, f), 'utf8')) as EndpointState;
        this.states.set(st.containerId, st);
      } catch (e) {
        this.d.log('warn', `unreadable endpoint record ${f}: ${errorMessage(e)}`);
      }
    }
    if (this.ncfg.iptables) {
      await ensureChain('filter', this.forwardChain, 'FORWARD');
      await ensureChain('nat', this.natChain, 'POSTROUTING');
      await this.writeForwardRules();
    }
    for (const n of this.bridgeNetworks()) await this.ensureBridge(n);
  }

  /**
   * Creates the network's bridge with its gateway address now rather than at
   * the first container: the subnet's route then exists, and another berthd
   * choosing a subnet sees it is taken.
   */
  private async ensureBridge(n: NetworkRecord): Promise<void> {
    const br = this.bridgeOf(n);
    const pool = n.IPAM.Config[0];
    if (!pool) return;
    const ip = '/usr/sbin/ip';
    if (!fs.existsSync(`/sys/class/net/${br}`)) {
      await runHost(ip, ['link', 'add', 'name', br, 'type', 'bridge']).catch((e) => {
        if (!fs.existsSync(`/sys/class/net/${br}`)) throw new Error(`creating bridge ${br}: ${errorMessage(e)}`);
      });
    }
    const addr = `${pool.Gateway}/${parseCidr(pool.Subnet).prefix}`;
    const have = await runHost(ip, ['-4', '-o', 'addr', 'show', 'dev', br]);
    if (!have.includes(` ${addr} `)) await runHost(ip, ['addr', 'add', addr, 'dev', br]);
    await runHost(ip, ['link', 'set', br, 'up']);
  }

  /**
   * After containers were restored: endpoints of live containers keep their
   * namespace, leases and published ports (the ports are held again); those
   * of containers that are gone are released, with any namespace or lease
   * left without an owner by a crash.
   */
  async reconcile(liveIds: Set<string>): Promise<void> {
    await this.serial(async () => {
      for (const st of [...this.states.values()]) {
        if (liveIds.has(st.containerId)) {
          if (this.reservations.has(st.containerId)) continue; // started again during restore
          try {
            this.reservations.set(st.containerId, await this.holdPorts(st.ports, st.containerId));
          } catch (e) {
            this.d.log('warn', `container ${st.containerId}: cannot hold its published ports again: ${errorMessage(e)}`);
          }
          if (st.dns) {
            // The container's DNAT rule names the port: the server must come back on it.
            const port = await this.dns.listen(st.dns.gateway, st.dns.port).catch(() => 0);
            if (port !== st.dns.port) this.d.log('warn', `container ${st.containerId}: embedded DNS could not listen on ${st.dns.gateway}:${st.dns.port} again`);
          }
        } else {
          await this.teardownLocked(st.containerId);
        }
      }
      const l = this.d.layout;
      for (const f of await fs.promises.readdir(l.netnsDir)) {
        if (!this.states.has(f)) await removeNetns(path.join(l.netnsDir, f)).catch((e) => this.d.log('warn', `stale namespace ${f}: ${errorMessage(e)}`));
      }
      await this.releaseStaleLeases();
    });
  }

  /** host-local leases are files named by address whose first line is the container ID. */
  private async releaseStaleLeases(): Promise<void> {
    const dir = this.d.layout.ipamDir;
    for (const net of await fs.promises.readdir(dir).catch(() => [] as string[])) {
      const nd = path.join(dir, net);
      for (const f of await fs.promises.readdir(nd).catch(() => [] as string[])) {
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(f)) continue;
        const owner = (await fs.promises.readFile(path.join(nd, f), 'utf8').catch(() => '')).split(/\r?\n/)[0]!.trim();
        if (!this.states.has(owner)) await fs.promises.rm(path.join(nd, f), { force: true });
      }
    }
  }

  // ---- network records --------------------------------------------------------

  private newRecord(name: string, driver: string): NetworkRecord {
    return {
      Name: name,
      Id: randomBytes(32).toString('hex'),
      Created: new Date().toISOString(),
      Scope: 'local',
      Driver: driver,
      EnableIPv4: true,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [] },
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Options: {},
      Labels: {},
    };
  }

  /** The default bridge follows the daemon's flags (--bip, --fixed-cidr, --bridge) at every start. */
  private applyDefaultBridge(n: NetworkRecord): void {
    const c = this.ncfg;
    const subnet = parseCidr(c.bip);
    const pool: IpamPool = { Subnet: formatCidr(subnet), Gateway: cidrAddress(c.bip) };
    if (c.fixedCidr) pool.IPRange = formatCidr(parseCidr(c.fixedCidr));
    n.IPAM = { Driver: 'default', Options: null, Config: [pool] };
    n.Options = {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': String(c.iptables),
      'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.name': c.bridgeName,
      'com.docker.network.driver.mtu': '1500',
    };
  }

  private byName(name: string): NetworkRecord | undefined {
    for (const n of this.nets.values()) if (n.Name === name) return n;
    return undefined;
  }

  /** dockerd's lookup: full ID, exact name, unique ID prefix. */
  resolve(ref: string): NetworkRecord {
    const byId = this.nets.get(ref);
    if (byId) return byId;
    const byName = this.byName(ref);
    if (byName) return byName;
    const hits = [...this.nets.values()].filter((n) => n.Id.startsWith(ref));
    if (hits.length === 1 && ref.length > 0) return hits[0]!;
    if (hits.length > 1) throw badRequest(`network ${ref} is ambiguous (${hits.length} matches found based on ID prefix)`);
    throw notFound(`network ${ref} not found`);
  }

  private bridgeOf(n: NetworkRecord): string {
    return n.Options['com.docker.network.bridge.name'] ?? LINK_PREFIX + n.Id.slice(0, 12);
  }

  private get forwardChain(): string {
    return `${this.ncfg.chainPrefix}-FORWARD`;
  }

  private get natChain(): string {
    return `${this.ncfg.chainPrefix}-POSTROUTING`;
  }

  private masquerades(n: NetworkRecord): boolean {
    return !n.Internal && n.Options['com.docker.network.bridge.enable_ip_masquerade'] !== 'false';
  }

  private bridgeNetworks(): NetworkRecord[] {
    return [...this.nets.values()].filter((n) => n.Driver === 'bridge');
  }

  /**
   * One chain holds it all: traffic between two of our bridges is dropped
   * (networks are isolated), an internal network talks only to itself, and
   * our bridges' traffic is accepted even under a FORWARD policy of DROP.
   */
  private async writeForwardRules(): Promise<void> {
    if (!this.ncfg.iptables) return;
    const nets = this.bridgeNetworks();
    const rules: string[][] = [];
    for (const n of nets) {
      const br = this.bridgeOf(n);
      if (n.Internal) {
        rules.push(['-i', br, '!', '-o', br, '-j', 'DROP'], ['-o', br, '!', '-i', br, '-j', 'DROP']);
      }
      for (const o of nets) if (o !== n) rules.push(['-i', br, '-o', this.bridgeOf(o), '-j', 'DROP']);
    }
    for (const n of nets) {
      const br = this.bridgeOf(n);
      rules.push(['-i', br, '-j', 'ACCEPT'], ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'ACCEPT']);
    }
    await setRules('filter', this.forwardChain, rules);
    // Outbound NAT, one rule per network as dockerd writes it (cheaper than the bridge plugin's chain per container).
    const nat = nets.filter((n) => this.masquerades(n)).flatMap((n) => n.IPAM.Config.map((p) => ['-s', p.Subnet, '!', '-o', this.bridgeOf(n), '-j', 'MASQUERADE']));
    await setRules('nat', this.natChain, nat);
  }

  // ---- API: create / list / inspect / remove / prune -----------------------------

  async create(body: unknown): Promise<{ Id: string; Warning: string }> {
    if (!body || typeof body !== 'object') throw badRequest('invalid network config: empty request body');
    const req = body as {
      Name?: string;
      Driver?: string;
      Internal?: boolean;
      Attachable?: boolean;
      EnableIPv6?: boolean;
      IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }>; Options?: Record<string, string> };
      Options?: Record<string, string>;
      Labels?: Record<string, string>;
      CheckDuplicate?: boolean;
    };
    const name = req.Name ?? '';
    if (!name) throw badRequest('invalid name: network name must not be empty');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw badRequest(`invalid network name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const driver = req.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw new ApiError(403, `only one instance of "${driver}" network is allowed`);
    if (driver === 'macvlan' || driver === 'ipvlan') throw badRequest(`network driver "${driver}" is not supported by berth yet: use the bridge driver`);
    if (driver !== 'bridge') throw notFound(`could not find plugin ${driver} in v1 plugin registry: plugin not found`);
    if (req.EnableIPv6) throw badRequest('IPv6 networks are not supported by berth yet: create the network without --ipv6');
    return this.serial(async () => {
      if (this.byName(name)) throw conflict(`network with name ${name} already exists`);
      const used = this.bridgeNetworks().flatMap((n) => n.IPAM.Config.map((p) => parseCidr(p.Subnet)));
      const pools: IpamPool[] = [];
      for (const p of req.IPAM?.Config ?? []) {
        if (!p.Subnet) {
          if (p.Gateway || p.IPRange) throw badRequest('invalid network config: a gateway or ip-range needs a subnet (--subnet)');
          continue;
        }
        let subnet: Cidr;
        try {
          subnet = parseCidr(p.Subnet);
        } catch {
          throw badRequest(`invalid network config: invalid subnet ${p.Subnet}: invalid CIDR address: ${p.Subnet}`);
        }
        if (subnet.prefix > 30) throw badRequest(`invalid network config: subnet ${p.Subnet} is too small: use a prefix of /30 or shorter`);
        if ([...used, ...pools.map((x) => parseCidr(x.Subnet))].some((u) => overlaps(u, subnet))) {
          throw new ApiError(403, 'invalid pool request: Pool overlaps with other one on this address space');
        }
        const gw = p.Gateway || firstHost(subnet);
        if (!contains(subnet, gw)) throw badRequest(`invalid network config: gateway ${gw} is not in subnet ${p.Subnet}`);
        const pool: IpamPool = { Subnet: p.Subnet, Gateway: gw };
        if (p.IPRange) {
          let range: Cidr;
          try {
            range = parseCidr(p.IPRange);
          } catch {
            throw badRequest(`invalid network config: invalid ip-range ${p.IPRange}: invalid CIDR address: ${p.IPRange}`);
          }
          if (!within(range, subnet)) throw badRequest(`invalid network config: ip-range ${p.IPRange} is not in subnet ${p.Subnet}`);
          pool.IPRange = p.IPRange;
        }
        pools.push(pool);
      }
      const userSubnet = pools.length > 0;
      if (!userSubnet) {
        const picked = pickSubnet([...used, ...hostRoutes()]);
        if (!picked) throw new ApiError(403, 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
        pools.push({ Subnet: formatCidr(picked), Gateway: firstHost(picked) });
      }
      const n = this.newRecord(name, driver);
      n.IPAM = { Driver: req.IPAM?.Driver || 'default', Options: req.IPAM?.Options ?? {}, Config: pools };
      (n as NetworkRecord & { userSubnet?: boolean }).userSubnet = userSubnet;
      n.Internal = !!req.Internal;
      n.Attachable = !!req.Attachable;
      n.Options = { ...(req.Options ?? {}) };
      n.Labels = { ...(req.Labels ?? {}) };
      const br = n.Options['com.docker.network.bridge.name'];
      if (br !== undefined) {
        if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(br)) throw badRequest(`invalid bridge name ${br}: an interface name has 1 to 15 letters, digits, '_', '.' or '-'`);
        if (this.bridgeNetworks().some((o) => this.bridgeOf(o) === br) || fs.existsSync(`/sys/class/net/${br}`)) {
          throw conflict(`bridge name ${br} is already in use`);
        }
      }
      await this.store.save(n);
      this.nets.set(n.Id, n);
      try {
        await this.ensureBridge(n);
        await this.writeForwardRules();
      } catch (e) {
        this.nets.delete(n.Id);
        await this.store.remove(n.Id);
        const br = this.bridgeOf(n);
        if (fs.existsSync(`/sys/class/net/${br}`)) await runHost('/usr/sbin/ip', ['link', 'del', br]).catch(() => undefined);
        throw e;
      }
      this.d.events.emit('network', 'create', n.Id, { name: n.Name, type: n.Driver });
      return { Id: n.Id, Warning: '' };
    });
  }

  private matches(n: NetworkRecord, filters: Map<string, string[]>): boolean {
    const allowed = new Set(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
    for (const k of filters.keys()) if (!allowed.has(k)) throw badRequest(`invalid filter '${k}'`);
    const f = (k: string) => filters.get(k);
    if (f('name') && !f('name')!.some((v) => n.Name.includes(v))) return false;
    if (f('id') && !f('id')!.some((v) => n.Id.startsWith(v))) return false;
    if (f('driver') && !f('driver')!.includes(n.Driver)) return false;
    if (f('scope') && !f('scope')!.includes(n.Scope)) return false;
    if (f('type')) {
      for (const t of f('type')!) if (t !== 'custom' && t !== 'builtin') throw badRequest(`invalid filter: 'type'='${t}'`);
      const kind = PREDEFINED.has(n.Name) ? 'builtin' : 'custom';
      if (!f('type')!.includes(kind)) return false;
    }
    if (f('label')) {
      for (const l of f('label')!) {
        const i = l.indexOf('=');
        if (i < 0 ? !(l in n.Labels) : n.Labels[l.slice(0, i)] !== l.slice(i + 1)) return false;
      }
    }
    if (f('dangling')) {
      const want = f('dangling')!.some((v) => v === 'true' || v === '1');
      const dangling = !PREDEFINED.has(n.Name) && this.attached(n.Id).length === 0;
      if (dangling !== want) return false;
    }
    return true;
  }

  list(filters: Map<string, string[]>): unknown[] {
    return [...this.nets.values()]
      .filter((n) => this.matches(n, filters))
      .sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created))
      .map((n) => this.view(n, false));
  }

  inspect(ref: string): unknown {
    return this.view(this.resolve(ref), true);
  }

  private view(n: NetworkRecord, withContainers: boolean): unknown {
    const { userSubnet: _u, ...pub } = n as NetworkRecord & { userSubnet?: boolean };
    const containers: Record<string, unknown> = {};
    if (withContainers) {
      for (const { st, ep } of this.attached(n.Id)) {
        const name = this.containerName(st.containerId);
        containers[st.containerId] = {
          Name: name,
          EndpointID: ep.endpointId,
          MacAddress: ep.mac,
          IPv4Address: `${ep.ip}/${ep.prefixLen}`,
          IPv6Address: '',
        };
      }
    }
    return { ...pub, Containers: containers };
  }

  private containerName(id: string): string {
    try {
      return this.containers?.find(id).rec.name.slice(1) ?? id.slice(0, 12);
    } catch {
      return id.slice(0, 12);
    }
  }

  private attached(networkId: string): Array<{ st: EndpointState; ep: AttachedEndpoint }> {
    const out: Array<{ st: EndpointState; ep: AttachedEndpoint }> = [];
    for (const st of this.states.values()) for (const ep of st.endpoints) if (ep.networkId === networkId) out.push({ st, ep });
    return out;
  }

  async remove(ref: string): Promise<void> {
    await this.serial(async () => {
      const n = this.resolve(ref);
      if (PREDEFINED.has(n.Name)) throw new ApiError(403, `${n.Name} is a pre-defined network and cannot be removed`);
      const active = this.attached(n.Id);
      if (active.length > 0) {
        const list = active.map(({ st }) => `name:"${this.containerName(st.containerId)}" id:"${st.containerId.slice(0, 12)}"`).join(', ');
        throw new ApiError(403, `error while removing network: network ${n.Name} has active endpoints (${list})`);
      }
      await this.destroy(n);
    });
  }

  private async destroy(n: NetworkRecord): Promise<void> {
    for (const p of n.IPAM.Config) this.dns.close(p.Gateway);
    await this.store.remove(n.Id);
    this.nets.delete(n.Id);
    await this.writeForwardRules().catch((e) => this.d.log('warn', `iptables after removing ${n.Name}: ${errorMessage(e)}`));
    const br = this.bridgeOf(n);
    if (fs.existsSync(`/sys/class/net/${br}`)) await runHost('/usr/sbin/ip', ['link', 'del', br]).catch((e) => this.d.log('warn', `deleting bridge ${br}: ${errorMessage(e)}`));
    await fs.promises.rm(path.join(this.d.layout.ipamDir, n.Name), { recursive: true, force: true });
    this.d.events.emit('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
  }

  async prune(filters: Map<string, string[]>): Promise<{ NetworksDeleted: string[] }> {
    for (const k of filters.keys()) if (k !== 'until' && k !== 'label' && k !== 'label!') throw badRequest(`invalid filter '${k}'`);
    return this.serial(async () => {
      const deleted: string[] = [];
      const until = filters.get('until')?.[0];
      const cutoff = until ? (/^\d+(\.\d+)?$/.test(until) ? Number(until) * 1000 : Date.now() - durationMs(until)) : Infinity;
      for (const n of [...this.nets.values()]) {
        if (PREDEFINED.has(n.Name) || this.attached(n.Id).length > 0) continue;
        if (this.usedByContainers(n).length > 0) continue;
        if (Date.parse(n.Created) > cutoff) continue;
        const labelOk = (filters.get('label') ?? []).every((l) => labelMatch(n.Labels, l)) && (filters.get('label!') ?? []).every((l) => !labelMatch(n.Labels, l));
        if (!labelOk) continue;
        await this.destroy(n);
        deleted.push(n.Name);
      }
      return { NetworksDeleted: deleted };
    });
  }

  /** Containers configured on the network (running or not): docker's prune keeps such networks. */
  private usedByContainers(n: NetworkRecord): string[] {
    return (this.containers?.all() ?? []).filter((c) => Object.keys(this.endpointsOf(c.rec)).some((k) => k === n.Name || k === n.Id)).map((c) => c.id);
  }

  // ---- containers: create-time checks ------------------------------------------

  /**
   * The endpoints a new container asks for, checked as dockerd does at
   * create: the networks exist, aliases and fixed addresses only on
   * user-defined networks.
   */
  endpointsAtCreate(networkMode: string, networking: unknown): Record<string, EndpointConfig> | undefined {
    const mode = networkMode;
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return undefined;
    const asked: Record<string, EndpointConfig> = {};
    for (const [k, v] of Object.entries((networking as { EndpointsConfig?: Record<string, EndpointConfig> | null } | null)?.EndpointsConfig ?? {})) {
      asked[k === 'default' ? 'bridge' : k] = v ?? {};
    }
    const primary = this.resolve(mode === 'default' ? 'bridge' : mode);
    const out: Record<string, EndpointConfig> = {};
    const add = (n: NetworkRecord, ep: EndpointConfig | undefined) => {
      const cfg: EndpointConfig = { ...(ep ?? {}) };
      if (n.Name === 'bridge') {
        if (cfg.Aliases?.length) throw badRequest('network-scoped alias is supported only for containers in user defined networks');
        if (cfg.IPAMConfig?.IPv4Address) throw badRequest('user specified IP address is supported on user defined networks only');
      } else if (n.Driver !== 'bridge') {
        throw badRequest(`container cannot be connected to network ${n.Name}: it is of driver ${n.Driver}`);
      }
      if (cfg.MacAddress) throw badRequest('setting a MAC address (--mac-address) is not supported by berth yet: leave it out and the bridge assigns one');
      if (cfg.IPAMConfig?.IPv6Address) throw badRequest('IPv6 addresses (--ip6) are not supported by berth yet');
      const ip = cfg.IPAMConfig?.IPv4Address;
      if (ip) {
        if (!(n as NetworkRecord & { userSubnet?: boolean }).userSubnet) throw badRequest('user specified IP address is supported only when connecting to networks with user configured subnets');
        if (!n.IPAM.Config.some((p) => contains(parseCidr(p.Subnet), ip))) throw badRequest(`no configured subnet or ip-range contain the IP address ${ip}`);
      }
      cfg.NetworkID = n.Id;
      out[n.Name] = cfg;
    };
    add(primary, asked[mode] ?? asked[primary.Name] ?? asked[primary.Id]);
    for (const [k, ep] of Object.entries(asked)) {
      const n = this.resolve(k);
      if (n.Id !== primary.Id) add(n, ep);
    }
    return out;
  }

  private endpointsOf(rec: ContainerRecord): Record<string, EndpointConfig> {
    const mode = rec.hostConfig.NetworkMode ?? 'bridge';
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return {};
    return rec.endpointsConfig ?? { [mode === 'default' ? 'bridge' : mode]: {} };
  }

  // ---- containers: start / stop ---------------------------------------------------

  /** Sets up the container's network before it starts; on failure nothing is left behind. */
  setUp(rec: ContainerRecord): Promise<NetworkSetup> {
    const gw = this.defaultGateway();
    const mode = rec.hostConfig.NetworkMode ?? 'bridge';
    if (mode === 'host' || mode === 'none') return Promise.resolve({ hostGatewayIp: gw, linkHosts: [] });
    if (mode.startsWith('container:')) {
      const target = this.containers!.find(mode.slice('container:'.length));
      if (!target.running) throw conflict(`cannot join network namespace of a non running container: container ${target.id} is ${target.rec.state.Status}`);
      const st = this.states.get(target.id);
      return Promise.resolve({ netnsPath: st?.netns ?? `/proc/${target.rec.state.Pid}/ns/net`, ip: st?.endpoints[0]?.ip, hostGatewayIp: gw, linkHosts: [] });
    }
    return this.serial(async () => {
      const t0 = Date.now();
      await this.teardownLocked(rec.id); // a leftover of a crash mid-start
      const wanted = Object.entries(this.endpointsOf(rec)).map(([k, cfg]) => ({ net: this.resolveForStart(k, cfg), cfg }));
      const ports = this.ncfg.iptables ? this.portRequests(rec) : [];
      const held = await this.holdPorts(ports, rec.id, rec.name.slice(1));
      const netns = path.join(this.d.layout.netnsDir, rec.id);
      const st: EndpointState = { containerId: rec.id, netns, ports: held.map((h, i) => ({ ...ports[i]!, hostIp: h.hostIp, hostPort: h.hostPort })), endpoints: [] };
      this.states.set(rec.id, st);
      this.reservations.set(rec.id, held);
      try {
        await createNetns(netns);
        for (const [i, w] of wanted.entries()) {
          st.endpoints.push(await this.addEndpoint(rec, st, w.net, w.cfg, `eth${i}`, i === 0 ? st.ports : []));
        }
        const first = st.endpoints[0];
        if (first && !PREDEFINED.has(first.networkName) && this.ncfg.iptables) {
          const port = await this.dns.listen(first.gateway);
          await redirectDns(netns, { ifname: first.ifname, containerIp: first.ip, gateway: first.gateway, port });
          st.dns = { gateway: first.gateway, port };
        }
        await this.saveState(st);
      } catch (e) {
        await this.teardownLocked(rec.id).catch((e2) => this.d.log('warn', `cleaning up the network of ${rec.id}: ${errorMessage(e2)}`));
        throw e;
      }
      const first = st.endpoints[0];
      this.d.log('debug', `network of ${rec.id.slice(0, 12)} set up in ${Date.now() - t0} ms`);
      for (const ep of st.endpoints) this.endpointEvent('connect', ep, rec.id);
      return { netnsPath: netns, ip: first?.ip, hostGatewayIp: first?.gateway ?? gw, linkHosts: this.linkHosts(rec), internalDns: !!st.dns };
    });
  }

  private resolveForStart(ref: string, cfg: EndpointConfig): NetworkRecord {
    if (cfg.NetworkID && this.nets.has(cfg.NetworkID)) return this.nets.get(cfg.NetworkID)!;
    try {
      return this.resolve(ref);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw notFound(`network ${ref} not found`);
      throw e;
    }
  }

  private defaultGateway(): string {
    return cidrAddress(this.ncfg.bip);
  }

  private get cniOpts() {
    return { pluginDir: this.ncfg.cniPluginDir };
  }

  private cniNetwork(n: NetworkRecord, withPorts: boolean): CniNetwork {
    const pool = n.IPAM.Config[0]!;
    const range: Record<string, string> = { subnet: pool.Subnet, gateway: pool.Gateway };
    if (pool.IPRange) {
      const r = parseCidr(pool.IPRange);
      range.rangeStart = intToIp(r.base + (r.prefix >= 31 ? 0 : 1));
      range.rangeEnd = intToIp(r.base + cidrSize(r) - (r.prefix >= 31 ? 1 : 2));
    }
    const plugins: CniNetwork['plugins'] = [
      {
        type: 'bridge',
        bridge: this.bridgeOf(n),
        isGateway: true,
        ipMasq: false, // berthd's own POSTROUTING chain masquerades per network
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[range]], routes: n.Internal ? [] : [{ dst: '0.0.0.0/0' }], dataDir: this.d.layout.ipamDir },
      },
    ];
    if (withPorts) plugins.push({ type: 'portmap', snat: true, capabilities: { portMappings: true } });
    return { name: n.Name, plugins };
  }

  private async addEndpoint(rec: ContainerRecord, st: EndpointState, n: NetworkRecord, cfg: EndpointConfig, ifname: string, ports: PublishedPort[]): Promise<AttachedEndpoint> {
    const cni = this.cniNetwork(n, ports.length > 0);
    const ip = cfg.IPAMConfig?.IPv4Address;
    if (ip) (cni.plugins[0] as Record<string, unknown>).runtimeConfig = { ips: [ip] };
    const capabilityArgs: Record<string, unknown> = {};
    if (ports.length) {
      capabilityArgs.portMappings = ports.map((p) => ({
        hostPort: p.hostPort,
        containerPort: p.containerPort,
        protocol: p.proto,
        ...(p.hostIp && p.hostIp !== '0.0.0.0' ? { hostIP: p.hostIp } : {}),
      }));
    }
    const rt = { containerId: rec.id, netns: st.netns, ifname, capabilityArgs };
    let result: CniResult;
    try {
      result = await cniAdd(this.cniOpts, cni, rt);
    } catch (e) {
      const msg = errorMessage(e);
      if (ip && /already (been )?allocated|requested IP address/.test(msg)) throw badRequest(`Address already in use`);
      throw new Error(`failed to set up container networking: ${msg}`);
    }
    const addr = result.ips?.[0];
    const iface = result.interfaces?.find((i) => i.name === ifname && i.sandbox);
    const [ipAddr, prefix] = (addr?.address ?? '/0').split('/');
    const aliases = [...(cfg.Aliases ?? [])];
    return {
      networkId: n.Id,
      networkName: n.Name,
      endpointId: randomBytes(32).toString('hex'),
      ifname,
      ip: ipAddr ?? '',
      prefixLen: Number(prefix ?? 0),
      gateway: addr?.gateway ?? '',
      mac: iface?.mac ?? '',
      aliases,
      cni,
      capabilityArgs,
      result,
    };
  }

  private async saveState(st: EndpointState): Promise<void> {
    await writeFileAtomic(path.join(this.d.layout.endpointsDir, `${st.containerId}.json`), JSON.stringify(st));
  }

  /** Tears the container's network down (CNI DEL, namespace, ports); nothing to do is fine. */
  tearDown(id: string): Promise<void> {
    if (!this.states.has(id) && !fs.existsSync(path.join(this.d.layout.netnsDir, id))) return Promise.resolve();
    return this.serial(() => this.teardownLocked(id));
  }

  private async teardownLocked(id: string): Promise<void> {
    const st = this.states.get(id);
    if (!st && !fs.existsSync(path.join(this.d.layout.netnsDir, id))) return;
    const t0 = Date.now();
    const netns = st?.netns ?? path.join(this.d.layout.netnsDir, id);
    const errors: string[] = [];
    for (const ep of [...(st?.endpoints ?? [])].reverse()) {
      const rt = { containerId: id, netns, ifname: ep.ifname, capabilityArgs: ep.capabilityArgs };
      await cniDel(this.cniOpts, ep.cni, rt, ep.result).catch((e) => errors.push(errorMessage(e)));
    }
    for (const r of this.reservations.get(id) ?? []) r.close();
    this.reservations.delete(id);
    for (const ep of st?.endpoints ?? []) this.endpointEvent('disconnect', ep, id);
    await removeNetns(netns).catch((e) => errors.push(errorMessage(e)));
    this.states.delete(id);
    await fs.promises.rm(path.join(this.d.layout.endpointsDir, `${id}.json`), { force: true });
    if (errors.length) this.d.log('warn', `network teardown of ${id}: ${errors.join('; ')}`);
    this.d.log('debug', `network of ${id.slice(0, 12)} torn down in ${Date.now() - t0} ms`);
  }

  // ---- published ports ---------------------------------------------------------------

  /** PortBindings plus, with -P, every exposed port not bound explicitly (on an ephemeral host port). */
  private portRequests(rec: ContainerRecord): PublishedPort[] {
    const out: PublishedPort[] = [];
    const bindings = (rec.hostConfig as { PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> }).PortBindings ?? {};
    const keys = new Set(Object.keys(bindings));
    const push = (key: string, hostIp: string, hostPort: string) => {
      const [portStr, proto = 'tcp'] = key.split('/');
      const containerPort = Number(portStr);
      if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535) throw badRequest(`invalid port specification: "${key}"`);
      if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw badRequest(`invalid proto: ${proto}`);
      // A range ("8000-8010") picks the first free port in it; it is resolved when held.
      const hp = hostPort === '' ? 0 : hostPort.includes('-') ? -rangeStart(hostPort) : Number(hostPort);
      if (!Number.isInteger(Math.abs(hp)) || Math.abs(hp) > 65535) throw badRequest(`invalid port specification: "${hostPort}"`);
      out.push({ hostIp: hostIp || '0.0.0.0', hostPort: hp, containerPort, proto, ...(hostPort.includes('-') ? { range: hostPort } : {}) } as PublishedPort);
    };
    for (const [key, list] of Object.entries(bindings)) {
      for (const b of list ?? [{}]) push(key, b.HostIp ?? '', b.HostPort ?? '');
    }
    if ((rec.hostConfig as { PublishAllPorts?: boolean }).PublishAllPorts) {
      for (const key of Object.keys(rec.config.ExposedPorts ?? {})) {
        const norm = key.includes('/') ? key : `${key}/tcp`;
        if (!keys.has(norm) && !keys.has(key)) push(norm, '', '');
      }
    }
    return out;
  }

  /** Binds every host port (or none: on a failure those already held are let go). */
  private async holdPorts(ports: PublishedPort[], containerId: string, name = ''): Promise<Reservation[]> {
    const held: Reservation[] = [];
    try {
      for (const p of ports) {
        const range = (p as PublishedPort & { range?: string }).range;
        if (range) {
          const [lo, hi] = range.split('-').map(Number) as [number, number];
          let got: Reservation | undefined;
          for (let port = lo; port <= hi && !got; port++) got = await reservePort(p.hostIp, port, p.proto).catch(() => undefined);
          if (!got) throw new Error(`Bind for ${p.hostIp}:${range} failed: port is already allocated`);
          held.push(got);
          continue;
        }
        try {
          held.push(await reservePort(p.hostIp, p.hostPort, p.proto));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EADDRINUSE') throw new Error(`Bind for ${p.hostIp}:${p.hostPort} failed: port is already allocated`);
          if (code === 'EADDRNOTAVAIL') throw new Error(`Error starting userland proxy: listen ${p.proto} ${p.hostIp}:${p.hostPort}: bind: cannot assign requested address`);
          throw e;
        }
      }
    } catch (e) {
      for (const r of held) r.close();
      throw new ApiError(500, `driver failed programming external connectivity on endpoint ${name || containerId.slice(0, 12)} (${containerId}): ${errorMessage(e)}`);
    }
    return held;
  }

  // ---- /etc/hosts extras ---------------------------------------------------------------

  /** Legacy links: "name:alias" → "<ip>\talias <id12> name" lines, as docker writes them. */
  private linkHosts(rec: ContainerRecord): string[] {
    const out: string[] = [];
    for (const link of (rec.hostConfig as { Links?: string[] | null }).Links ?? []) {
      const [target, alias] = link.split(':');
      let other: ContainerView;
      try {
        other = this.containers!.find(target!);
      } catch {
        throw badRequest(`could not get container for ${target}`);
      }
      if (!other.running) throw badRequest(`cannot link to a non running container: ${other.rec.name} AS ${rec.name}/${alias ?? target}`);
      const ip = this.states.get(other.id)?.endpoints.find((e) => e.networkName === 'bridge')?.ip;
      if (!ip) continue;
      const names = [...new Set([(alias ?? target!).replace(/^\//, ''), other.id.slice(0, 12), other.rec.name.slice(1)])];
      out.push(`${ip}\t${names.join(' ')}`);
    }
    return out;
  }

  // ---- inspect / ps ---------------------------------------------------------------------

  /** NetworkSettings as dockerd fills it. */
  settings(rec: ContainerRecord, running: boolean): Record<string, unknown> {
    const st = running ? this.states.get(rec.id) : undefined;
    const mode = rec.hostConfig.NetworkMode ?? 'bridge';
    const nets: Record<string, unknown> = {};
    const blank = {
      IPAMConfig: null,
      Links: null,
      Aliases: null,
      MacAddress: '',
      DriverOpts: null,
      GwPriority: 0,
      NetworkID: '',
      EndpointID: '',
      Gateway: '',
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DNSNames: null,
    };
    if (mode === 'host' || mode === 'none') {
      const n = this.byName(mode);
      nets[mode] = { ...blank, NetworkID: n?.Id ?? '' };
    }
    for (const [name, cfg] of Object.entries(this.endpointsOf(rec))) {
      const n = cfg.NetworkID ? this.nets.get(cfg.NetworkID) : this.byName(name);
      const ep = st?.endpoints.find((e) => e.networkId === (n?.Id ?? cfg.NetworkID));
      const user = !!n && !PREDEFINED.has(n.Name);
      nets[n?.Name ?? name] = {
        ...blank,
        IPAMConfig: cfg.IPAMConfig ?? null,
        Links: cfg.Links ?? null,
        Aliases: cfg.Aliases?.length ? cfg.Aliases : null,
        MacAddress: ep?.mac ?? '',
        DriverOpts: cfg.DriverOpts ?? null,
        NetworkID: n?.Id ?? cfg.NetworkID ?? '',
        EndpointID: ep?.endpointId ?? '',
        Gateway: ep?.gateway ?? '',
        IPAddress: ep?.ip ?? '',
        IPPrefixLen: ep?.prefixLen ?? 0,
        DNSNames: ep && user ? [rec.name.slice(1), rec.id.slice(0, 12), ...(cfg.Aliases ?? [])] : null,
      };
    }
    const bridgeEp = st?.endpoints.find((e) => e.networkName === 'bridge');
    return {
      Bridge: '',
      SandboxID: st ? rec.id : '',
      SandboxKey: st ? st.netns : running && mode !== 'host' && rec.state.Pid ? `/proc/${rec.state.Pid}/ns/net` : '',
      Ports: running ? this.portMap(rec, st) : {},
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: bridgeEp?.endpointId ?? '',
      Gateway: bridgeEp?.gateway ?? '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: bridgeEp?.ip ?? '',
      IPPrefixLen: bridgeEp?.prefixLen ?? 0,
      IPv6Gateway: '',
      MacAddress: bridgeEp?.mac ?? '',
      Networks: nets,
    };
  }

  private portMap(rec: ContainerRecord, st: EndpointState | undefined): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
    const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
    for (const key of Object.keys(rec.config.ExposedPorts ?? {})) out[key.includes('/') ? key : `${key}/tcp`] = null;
    for (const p of st?.ports ?? []) {
      const key = `${p.containerPort}/${p.proto}`;
      (out[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
    }
    return out;
  }

  /** Engine API Port list for /containers/json. */
  portSummary(rec: ContainerRecord, running: boolean): Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> {
    const out: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> = [];
    const st = running ? this.states.get(rec.id) : undefined;
    const published = new Set<string>();
    for (const p of st?.ports ?? []) {
      out.push({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto });
      published.add(`${p.containerPort}/${p.proto}`);
    }
    for (const key of Object.keys(rec.config.ExposedPorts ?? {})) {
      const [port, proto = 'tcp'] = key.split('/');
      if (!published.has(`${port}/${proto}`)) out.push({ PrivatePort: Number(port), Type: proto });
    }
    return out;
  }

  /**
   * ps's `publish` and `expose` filters: `80`, `80/udp` or a range `8000-8080[/tcp]` of container
   * ports; publish matches ports published on the host, expose every exposed or published port.
   */
  portFilterMatches(rec: ContainerRecord, running: boolean, publish: string[], expose: string[]): boolean {
    if (publish.length === 0 && expose.length === 0) return true;
    const summary = this.portSummary(rec, running);
    const parse = (f: string) => {
      const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(f);
      if (!m) throw badRequest(`invalid filter value ${f}: use a port, port/proto or a range start-end/proto`);
      return { lo: Number(m[1]), hi: Number(m[2] ?? m[1]), proto: m[3] ?? 'tcp' };
    };
    const hit = (filters: string[], ports: Array<{ PrivatePort: number; Type: string }>) =>
      filters.map(parse).some((f) => ports.some((p) => p.Type === f.proto && p.PrivatePort >= f.lo && p.PrivatePort <= f.hi));
    if (publish.length && !hit(publish, summary.filter((p) => p.PublicPort !== undefined))) return false;
    if (expose.length && !hit(expose, summary)) return false;
    return true;
  }

  /** Names of the networks a container is on (for the `network` filter of ps). */
  networkNames(rec: ContainerRecord): string[] {
    const mode = rec.hostConfig.NetworkMode ?? 'bridge';
    if (mode === 'host' || mode === 'none') return [mode];
    return Object.keys(this.endpointsOf(rec));
  }

  /** The container's namespace file while it runs (for stats). */
  netnsOf(id: string): string | undefined {
    return this.states.get(id)?.netns;
  }

  // ---- embedded DNS ---------------------------------------------------------------------

  private asker(gateway: string, srcIp: string): EndpointState | undefined {
    for (const st of this.states.values()) if (st.endpoints.some((e) => e.gateway === gateway && e.ip === srcIp)) return st;
    return undefined;
  }

  /** Container names, hostnames, short IDs and aliases on the networks the asking container shares; "name.network" too. */
  lookup(gateway: string, srcIp: string, name: string): string[] | undefined {
    const me = this.asker(gateway, srcIp);
    if (!me) return undefined;
    const mine = new Set(me.endpoints.filter((e) => !PREDEFINED.has(e.networkName)).map((e) => e.networkId));
    const out: string[] = [];
    for (const st of this.states.values()) {
      let rec: ContainerRecord;
      try {
        rec = this.containers!.find(st.containerId).rec;
      } catch {
        continue;
      }
      for (const ep of st.endpoints) {
        if (!mine.has(ep.networkId)) continue;
        const names = [rec.name.slice(1), rec.id.slice(0, 12), rec.config.Hostname ?? '', ...ep.aliases].filter(Boolean).map((x) => x.toLowerCase());
        const hit = names.includes(name) || names.some((x) => `${x}.${ep.networkName.toLowerCase()}` === name);
        if (hit && !out.includes(ep.ip)) out.push(ep.ip);
      }
    }
    return out.length ? out : undefined;
  }

  private hostResolvers?: { at: number; servers: string[] };

  upstream(gateway: string, srcIp: string): string[] {
    const st = this.asker(gateway, srcIp);
    if (st) {
      try {
        const dns = this.containers!.find(st.containerId).rec.hostConfig.Dns ?? [];
        if (dns.length) return dns;
      } catch {
        /* gone meanwhile: the host's servers do */
      }
    }
    if (!this.hostResolvers || Date.now() - this.hostResolvers.at > 5000) {
      const text = (() => {
        try {
          return fs.readFileSync('/etc/resolv.conf', 'utf8');
        } catch {
          return '';
        }
      })();
      const servers = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
      this.hostResolvers = { at: Date.now(), servers: servers.length ? servers : ['8.8.8.8', '8.8.4.4'] };
    }
    return this.hostResolvers.servers;
  }

  private endpointEvent(action: 'connect' | 'disconnect', ep: AttachedEndpoint, containerId: string): void {
    const n = this.nets.get(ep.networkId);
    this.d.events.emit('network', action, ep.networkId, { container: containerId, name: ep.networkName, type: n?.Driver ?? 'bridge' });
  }

  // ---- connect / disconnect ---------------------------------------------------------------

  async connect(ref: string, body: { Container?: string; EndpointConfig?: EndpointConfig | null }): Promise<void> {
    const n = this.resolve(ref);
    const c = this.containers!.find(body.Container ?? '');
    const mode = c.rec.hostConfig.NetworkMode ?? 'bridge';
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:') || n.Driver !== 'bridge') {
      throw new ApiError(403, 'container sharing network namespace with another container or host cannot be connected to any other network');
    }
    const eps = this.endpointsOf(c.rec);
    if (eps[n.Name]) throw new ApiError(403, `endpoint with name ${c.rec.name.slice(1)} already exists in network ${n.Name}`);
    const cfg = this.endpointsAtCreate(n.Name, { EndpointsConfig: { [n.Name]: body.EndpointConfig ?? {} } })![n.Name]!;
    await this.serial(async () => {
      const st = this.states.get(c.id);
      if (c.running && st) {
        const ep = await this.addEndpoint(c.rec, st, n, cfg, `eth${nextIfIndex(st)}`, []);
        st.endpoints.push(ep);
        await this.saveState(st);
        this.endpointEvent('connect', ep, c.id);
      }
      c.rec.endpointsConfig = { ...eps, [n.Name]: cfg };
      await this.containers!.save(c.id);
    });
  }

  async disconnect(ref: string, body: { Container?: string; Force?: boolean }): Promise<void> {
    const n = this.resolve(ref);
    const c = this.containers!.find(body.Container ?? '');
    const eps = this.endpointsOf(c.rec);
    const key = Object.keys(eps).find((k) => k === n.Name || eps[k]!.NetworkID === n.Id);
    if (!key) throw new ApiError(403, `container ${c.id} is not connected to network ${n.Name}`);
    await this.serial(async () => {
      const st = this.states.get(c.id);
      const ep = st?.endpoints.find((e) => e.networkId === n.Id);
      if (st && ep) {
        await cniDel(this.cniOpts, ep.cni, { containerId: c.id, netns: st.netns, ifname: ep.ifname, capabilityArgs: ep.capabilityArgs }, ep.result);
        st.endpoints = st.endpoints.filter((e) => e !== ep);
        await this.saveState(st);
        this.endpointEvent('disconnect', ep, c.id);
      }
      const rest = { ...eps };
      delete rest[key];
      c.rec.endpointsConfig = rest;
      await this.containers!.save(c.id);
    });
  }

  /** Daemon shutdown: let go of the held ports (live-restored containers get them back at the next start). */
  shutdown(): void {
    this.dns.closeAll();
    for (const rs of this.reservations.values()) for (const r of rs) r.close();
    this.reservations.clear();
  }
}

function nextIfIndex(st: EndpointState): number {
  const used = new Set(st.endpoints.map((e) => e.ifname));
  let i = 0;
  while (used.has(`eth${i}`)) i++;
  return i;
}

function rangeStart(r: string): number {
  return Number(r.split('-')[0]);
}

function labelMatch(labels: Record<string, string>, f: string): boolean {
  const i = f.indexOf('=');
  return i < 0 ? f in labels : labels[f.slice(0, i)] === f.slice(i + 1);
}

/** Go durations as prune's `until` takes them ("24h", "10m", "1h30m"). */
function durationMs(s: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(h|m|s|ms)/g;
  let m: RegExpExecArray | null;
  let matched = '';
  while ((m = re.exec(s))) {
    matched += m[0];
    total += Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[m[2] as 'h' | 'm' | 's' | 'ms'];
  }
  if (matched !== s) throw badRequest(`invalid filter 'until=${s}'`);
  return total;
}
