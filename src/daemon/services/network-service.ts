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
import { clearDnsRedirect, createNetns, disableDad, redirectDns, removeNetns } from '../system/netns.js';
import { ensureChain, setRules } from '../system/iptables.js';
import { reservePort, type Reservation } from '../system/port-reserve.js';
import { runHost } from '../system/host-command.js';
import { createParentLink, deleteLink, linkExists } from '../system/links.js';
import { cidrAddress, cidrSize, contains, firstHost, formatCidr, hostRoutes, intToIp, overlaps, parseCidr, pickSubnet, within, type Cidr } from '../system/ipnet.js';
import { bigToIp6, contains6, firstHost6, formatCidr6, hostRoutes6, ip6ToBig, isCidr6, parseCidr6, pickSubnet6, rangeBounds6 } from '../system/ipnet.js';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { EventBus } from './events.js';
import { EmbeddedDns, type Asker, type DnsAnswerSource } from './dns-server.js';
import { bindInNetns } from '../system/netns-socket.js';
import { auxAddresses, checkMac, checkVlanName, ipv6Pools, vlanOptions } from './network-options.js';

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
  /** IPv6 address, prefix and gateway on a dual-stack network. */
  ip6?: string;
  prefixLen6?: number;
  gateway6?: string;
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
  /**
   * Where the container's 127.0.0.11 points (user-defined networks): the
   * server on a bridge gateway, or (inside) sockets in its own namespace.
   */
  dns?: { gateway: string; port: number; inside?: boolean };
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
  /** The running container's 127.0.0.11 now answers: rewrite its resolv.conf to use it. */
  useEmbeddedDns(id: string): Promise<void>;
}

export interface NetworkSetup {
  /** Namespace to join; undefined: host networking or a private (none) namespace. */
  netnsPath?: string;
  /** The container's addresses on its first network (for /etc/hosts). */
  ip?: string;
  ip6?: string;
  /** For --add-host host-gateway. */
  hostGatewayIp: string;
  /** Legacy --link entries for /etc/hosts. */
  linkHosts: string[];
  /** The embedded DNS server answers at 127.0.0.11 (user-defined networks). */
  internalDns?: boolean;
}

const PREDEFINED = new Set(['bridge', 'host', 'none']);
const INTERNAL_DNS = '127.0.0.11';
/** Owner written in the lease files that keep --aux-address addresses out of IPAM. */
const AUX_OWNER = 'berth-aux-address';
const DRIVERS = new Set(['bridge', 'macvlan', 'ipvlan']);
const LINK_PREFIX = 'br-';

/** Names another part of the engine answers for in the embedded DNS (swarm services), and the containers that need it for them. */
export interface ExtraDns {
  wants(containerId: string): boolean;
  lookup(containerId: string, name: string): string[] | undefined;
}

/**
 * Networks another part of the engine connects containers to (swarm
 * overlays): their `NetworkSettings.Networks` entries, by network name,
 * with the fields the other part knows (address, IDs, MAC…).
 */
export type ExtraNetworks = (containerId: string, running: boolean) => Record<string, Record<string, unknown>>;

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

  private extraDns?: ExtraDns;

  setExtraDns(x: ExtraDns): void {
    this.extraDns = x;
  }

  private extraNetworks?: ExtraNetworks;

  setExtraNetworks(x: ExtraNetworks): void {
    this.extraNetworks = x;
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
    for (const n of this.nets.values()) await this.reserveAux(n);
    for (const n of this.nets.values()) {
      if (n.Driver !== 'bridge' && n.createdParent) await this.ensureParent(n).catch((e) => this.d.log('warn', `network ${n.Name}: ${errorMessage(e)}`));
    }
  }

  /**
   * --aux-address: host-local skips an address whose lease file exists, so
   * each auxiliary address gets one owned by AUX_OWNER (made again after a
   * reboot, when the exec root is new).
   */
  private async reserveAux(n: NetworkRecord): Promise<void> {
    const dir = path.join(this.d.layout.ipamDir, n.Name);
    for (const p of n.IPAM.Config) {
      for (const ip of Object.values(p.AuxiliaryAddresses ?? {})) {
        await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
        // host-local names lease files by the address as Go prints it.
        const file = path.join(dir, isIPv6(ip) ? bigToIp6(ip6ToBig(ip)) : ip);
        await fs.promises.writeFile(file, `${AUX_OWNER}\r\n`, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        });
      }
    }
  }

  /** The parent link berthd made for a macvlan/ipvlan network (gone after a reboot, so made again at start). */
  private async ensureParent(n: NetworkRecord): Promise<void> {
    const p = n.createdParent;
    if (!p || linkExists(p)) return;
    if (!p.includes('.')) return createParentLink(p, `${p.slice(0, 2)}p${p.slice(2)}`.slice(0, 15));
    const [master, vid] = p.split('.') as [string, string];
    try {
      await runHost('/usr/sbin/ip', ['link', 'add', 'link', master, 'name', p, 'type', 'vlan', 'id', vid]);
      await runHost('/usr/sbin/ip', ['link', 'set', p, 'up']);
    } catch (e) {
      throw badRequest(`failed to create ${p} vlan link: ${errorMessage(e)}`);
    }
  }

  /** passthru takes the parent for itself (dockerd's check). */
  private checkParentShare(driver: string, parent: string, mode: string): void {
    if (driver !== 'macvlan') return;
    for (const o of this.nets.values()) {
      if (o.Driver !== 'macvlan' || (o.Options.parent ?? '') !== parent || !parent) continue;
      if (mode === 'passthru') throw badRequest(`cannot use mode passthru, macvlan network ${o.Id} is already using parent interface ${parent}`);
      if (o.Options.macvlan_mode === 'passthru') throw badRequest(`macvlan network ${o.Id} is already using parent interface ${parent} in mode passthru`);
    }
  }

  /**
   * Creates the network's bridge with its gateway address now rather than at
   * the first container: the subnet's route then exists, and another berthd
   * choosing a subnet sees it is taken.
   */
  private async ensureBridge(n: NetworkRecord): Promise<void> {
    const br = this.bridgeOf(n);
    if (!n.IPAM.Config.length) return;
    const ip = '/usr/sbin/ip';
    if (!fs.existsSync(`/sys/class/net/${br}`)) {
      await runHost(ip, ['link', 'add', 'name', br, 'type', 'bridge']).catch((e) => {
        if (!fs.existsSync(`/sys/class/net/${br}`)) throw new Error(`creating bridge ${br}: ${errorMessage(e)}`);
      });
    }
    const have = await runHost(ip, ['-o', 'addr', 'show', 'dev', br]);
    for (const p of n.IPAM.Config) {
      const v6 = isCidr6(p.Subnet);
      const addr = `${p.Gateway}/${v6 ? parseCidr6(p.Subnet).prefix : parseCidr(p.Subnet).prefix}`;
      // nodad: the gateway answers at once instead of after duplicate address detection.
      if (!have.includes(` ${addr} `)) await runHost(ip, ['addr', 'add', addr, 'dev', br, ...(v6 ? ['nodad'] : [])]);
    }
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
            // st.ports already lists the [::] side of IPv6 containers: held here too.
            this.reservations.set(st.containerId, await this.holdPorts(st.ports, st.containerId));
            if (!this.ncfg.iptables) this.proxyPorts(st);
          } catch (e) {
            this.d.log('warn', `container ${st.containerId}: cannot hold its published ports again: ${errorMessage(e)}`);
          }
          if (st.dns?.inside) {
            // The old sockets died with the old berthd: bind new ones in the container's namespace.
            await bindInNetns(st.netns, INTERNAL_DNS, 53).then(
              (socks) => this.dns.serveInside(st.containerId, socks),
              (e) => this.d.log('warn', `container ${st.containerId}: embedded DNS in its namespace: ${errorMessage(e)}`),
            );
          } else if (st.dns) {
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
        if (!isIP(f)) continue;
        const owner = (await fs.promises.readFile(path.join(nd, f), 'utf8').catch(() => '')).split(/\r?\n/)[0]!.trim();
        if (owner !== AUX_OWNER && !this.states.has(owner)) await fs.promises.rm(path.join(nd, f), { force: true });
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
    n.EnableIPv6 = c.ipv6;
    if (c.ipv6) {
      const v6 = parseCidr6(c.fixedCidrV6);
      n.IPAM.Config.push({ Subnet: formatCidr6(v6), Gateway: firstHost6(v6) });
    }
    n.Options = {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': String(c.icc),
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
      // enable_icc=false: containers on the bridge do not talk to each other, but through published ports (DNAT) they may.
      if (n.Options['com.docker.network.bridge.enable_icc'] === 'false') rules.push(['-i', br, '-o', br, '-m', 'conntrack', '!', '--ctstate', 'DNAT', '-j', 'DROP']);
    }
    for (const n of nets) {
      const br = this.bridgeOf(n);
      rules.push(['-i', br, '-j', 'ACCEPT'], ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'ACCEPT']);
    }
    await setRules('filter', this.forwardChain, rules);
    // Outbound NAT, one rule per network as dockerd writes it (cheaper than the bridge plugin's chain per container).
    const nat = (v6: boolean) =>
      nets.filter((n) => this.masquerades(n)).flatMap((n) => n.IPAM.Config.filter((p) => isCidr6(p.Subnet) === v6).map((p) => ['-s', p.Subnet, '!', '-o', this.bridgeOf(n), '-j', 'MASQUERADE']));
    await setRules('nat', this.natChain, nat(false));
    // ip6tables only once an IPv6 network exists (as dockerd's --ip6tables): no chains in a family nobody uses.
    const any6 = nets.some((n) => n.EnableIPv6);
    if (this.ncfg.ip6tables && (any6 || this.v6Chains)) {
      if (!this.v6Chains) {
        await ensureChain('filter', this.forwardChain, 'FORWARD', 6);
        await ensureChain('nat', this.natChain, 'POSTROUTING', 6);
        this.v6Chains = true;
      }
      await setRules('filter', this.forwardChain, rules, 6);
      await setRules('nat', this.natChain, nat(true), 6);
    }
  }

  private v6Chains = false;

  // ---- API: create / list / inspect / remove / prune -----------------------------

  async create(body: unknown): Promise<{ Id: string; Warning: string }> {
    if (!body || typeof body !== 'object') throw badRequest('invalid network config: empty request body');
    const req = body as {
      Name?: string;
      Driver?: string;
      Internal?: boolean;
      Attachable?: boolean;
      EnableIPv6?: boolean;
      EnableIPv4?: boolean;
      IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> }>; Options?: Record<string, string> };
      Options?: Record<string, string>;
      Labels?: Record<string, string>;
      CheckDuplicate?: boolean;
    };
    const name = req.Name ?? '';
    if (!name) throw badRequest('invalid name: network name must not be empty');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw badRequest(`invalid network name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const driver = req.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw new ApiError(403, `only one instance of "${driver}" network is allowed`);
    if (!DRIVERS.has(driver)) throw notFound(`could not find plugin ${driver} in v1 plugin registry: plugin not found`);
    const vlan = driver === 'bridge' ? undefined : vlanOptions(driver, req.Options ?? {});
    if (req.EnableIPv4 === false) throw badRequest('IPv6-only networks (--ipv4=false) are not supported by berth yet: leave IPv4 on');
    return this.serial(async () => {
      if (this.byName(name)) throw conflict(`network with name ${name} already exists`);
      // One local address space for every driver, as dockerd's: a macvlan subnet may not overlap a bridge's.
      const used = [...this.nets.values()].flatMap((n) => n.IPAM.Config.filter((p) => !p.Subnet.includes(':')).map((p) => parseCidr(p.Subnet)));
      const pools: IpamPool[] = [];
      const v6Asked = (req.IPAM?.Config ?? []).filter((p) => p.Subnet && isCidr6(p.Subnet));
      if (v6Asked.length && !req.EnableIPv6) throw badRequest(`invalid network config: IPv6 subnet ${v6Asked[0]!.Subnet} needs IPv6 enabled on the network (--ipv6)`);
      const used6 = [...this.nets.values()].flatMap((o) => o.IPAM.Config.filter((p) => isCidr6(p.Subnet)).map((p) => parseCidr6(p.Subnet)));
      const pools6 = ipv6Pools(req.EnableIPv6 ? v6Asked : [], used6);
      for (const p of req.IPAM?.Config ?? []) {
        if (p.Subnet && isCidr6(p.Subnet)) continue;
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
        const aux = auxAddresses(p.AuxiliaryAddresses, p.Subnet, (ip) => isIPv4(ip) && contains(subnet, ip));
        if (aux) pool.AuxiliaryAddresses = aux;
        pools.push(pool);
      }
      const userSubnet = pools.length > 0;
      if (!userSubnet) {
        const picked = pickSubnet([...used, ...hostRoutes()]);
        if (!picked) throw new ApiError(403, 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
        pools.push({ Subnet: formatCidr(picked), Gateway: firstHost(picked) });
      }
      if (req.EnableIPv6 && pools6.length === 0) {
        const picked = pickSubnet6([...used6, ...hostRoutes6()], () => BigInt(`0x${randomBytes(7).toString('hex')}`));
        if (!picked) throw new ApiError(403, 'could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network');
        pools6.push({ Subnet: formatCidr6(picked), Gateway: firstHost6(picked) });
      }
      pools.push(...pools6);
      const n = this.newRecord(name, driver);
      n.IPAM = { Driver: req.IPAM?.Driver || 'default', Options: req.IPAM?.Options ?? {}, Config: pools };
      n.userSubnet = userSubnet;
      n.Internal = !!req.Internal;
      n.EnableIPv6 = !!req.EnableIPv6;
      n.Attachable = !!req.Attachable;
      n.Options = { ...(req.Options ?? {}) };
      n.Labels = { ...(req.Labels ?? {}) };
      if (vlan) {
        if (vlan.mode === 'passthru' || vlan.parent) this.checkParentShare(driver, vlan.parent ?? '', vlan.mode);
        if (!vlan.parent) {
          // No parent: docker hangs the network on a link of its own, with no way out (internal).
          n.createdParent = `${driver === 'macvlan' ? 'dm' : 'di'}-${n.Id.slice(0, 12)}`;
        } else if (!linkExists(vlan.parent)) {
          if (!vlan.parent.includes('.')) throw badRequest(`-o parent interface was not found on the host: ${vlan.parent}`);
          checkVlanName(vlan.parent);
          n.createdParent = vlan.parent;
        }
      }
      const br = driver === 'bridge' ? n.Options['com.docker.network.bridge.name'] : undefined;
      if (br !== undefined) {
        if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(br)) throw badRequest(`invalid bridge name ${br}: an interface name has 1 to 15 letters, digits, '_', '.' or '-'`);
        if (this.bridgeNetworks().some((o) => this.bridgeOf(o) === br) || fs.existsSync(`/sys/class/net/${br}`)) {
          throw conflict(`bridge name ${br} is already in use`);
        }
      }
      await this.store.save(n);
      this.nets.set(n.Id, n);
      try {
        if (driver === 'bridge') {
          await this.ensureBridge(n);
          await this.writeForwardRules();
        } else {
          await this.ensureParent(n);
        }
        await this.reserveAux(n);
      } catch (e) {
        this.nets.delete(n.Id);
        await this.store.remove(n.Id);
        if (driver === 'bridge') {
          const br = this.bridgeOf(n);
          if (fs.existsSync(`/sys/class/net/${br}`)) await runHost('/usr/sbin/ip', ['link', 'del', br]).catch(() => undefined);
        } else if (n.createdParent) {
          await deleteLink(n.createdParent).catch(() => undefined);
        }
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
    const { userSubnet: _u, createdParent: _p, ...pub } = n;
    const containers: Record<string, unknown> = {};
    if (withContainers) {
      for (const { st, ep } of this.attached(n.Id)) {
        const name = this.containerName(st.containerId);
        containers[st.containerId] = {
          Name: name,
          EndpointID: ep.endpointId,
          MacAddress: ep.mac,
          IPv4Address: ep.ip ? `${ep.ip}/${ep.prefixLen}` : '',
          IPv6Address: ep.ip6 ? `${ep.ip6}/${ep.prefixLen6}` : '',
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
    if (n.Driver === 'bridge') {
      const br = this.bridgeOf(n);
      if (fs.existsSync(`/sys/class/net/${br}`)) await runHost('/usr/sbin/ip', ['link', 'del', br]).catch((e) => this.d.log('warn', `deleting bridge ${br}: ${errorMessage(e)}`));
    } else if (n.createdParent && ![...this.nets.values()].some((o) => o.createdParent === n.createdParent)) {
      await deleteLink(n.createdParent).catch((e) => this.d.log('warn', `deleting parent link ${n.createdParent}: ${errorMessage(e)}`));
    }
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
  endpointsAtCreate(networkMode: string, networking: unknown, legacyMac?: string): Record<string, EndpointConfig> | undefined {
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
      } else if (!DRIVERS.has(n.Driver)) {
        throw badRequest(`container cannot be connected to network ${n.Name}: it is of driver ${n.Driver}`);
      }
      if (cfg.MacAddress) checkMac(cfg.MacAddress);
      const ip = cfg.IPAMConfig?.IPv4Address;
      const ip6 = cfg.IPAMConfig?.IPv6Address;
      if (ip || ip6) {
        if (!n.userSubnet && !(ip6 && !ip && n.EnableIPv6)) throw badRequest('user specified IP address is supported only when connecting to networks with user configured subnets');
      }
      if (ip) {
        if (!isIPv4(ip)) throw badRequest(`invalid IPv4 address: ${ip}`);
        if (!n.IPAM.Config.some((p) => !isCidr6(p.Subnet) && contains(parseCidr(p.Subnet), ip))) throw badRequest(`no configured subnet or ip-range contain the IP address ${ip}`);
      }
      if (ip6) {
        if (!isIPv6(ip6)) throw badRequest(`invalid IPv6 address: ${ip6}`);
        if (!n.IPAM.Config.some((p) => isCidr6(p.Subnet) && contains6(parseCidr6(p.Subnet), ip6))) throw badRequest(`no configured subnet or ip-range contain the IP address ${ip6}`);
      }
      cfg.NetworkID = n.Id;
      out[n.Name] = cfg;
    };
    const first = asked[mode] ?? asked[primary.Name] ?? asked[primary.Id];
    // API < 1.44 clients send the MAC in Config.MacAddress: it belongs to the first network's endpoint.
    add(primary, legacyMac && !first?.MacAddress ? { ...(first ?? {}), MacAddress: legacyMac } : first);
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
      // macvlan/ipvlan endpoints are on the outside network themselves: docker maps no ports for them.
      const ports = wanted[0]?.net.Driver === 'bridge' ? this.portRequests(rec) : [];
      const held = await this.holdPorts(ports, rec.id, rec.name.slice(1));
      const netns = path.join(this.d.layout.netnsDir, rec.id);
      const st: EndpointState = { containerId: rec.id, netns, ports: held.map((h, i) => ({ ...ports[i]!, hostIp: h.hostIp, hostPort: h.hostPort })), endpoints: [] };
      this.states.set(rec.id, st);
      this.reservations.set(rec.id, held);
      try {
        await createNetns(netns, { noDad: wanted.some((w) => w.net.EnableIPv6) });
        for (const [i, w] of wanted.entries()) {
          st.endpoints.push(await this.addEndpoint(rec, st, w.net, w.cfg, `eth${i}`, i === 0 ? st.ports : []));
        }
        await this.holdIpv6Ports(st);
        if (!this.ncfg.iptables) this.proxyPorts(st);
        await this.startDns(st);
        await this.saveState(st);
      } catch (e) {
        await this.teardownLocked(rec.id).catch((e2) => this.d.log('warn', `cleaning up the network of ${rec.id}: ${errorMessage(e2)}`));
        throw e;
      }
      const first = st.endpoints[0];
      this.d.log('debug', `network of ${rec.id.slice(0, 12)} set up in ${Date.now() - t0} ms`);
      for (const ep of st.endpoints) this.endpointEvent('connect', ep, rec.id);
      // host-gateway is the same whatever the network (dockerd's --host-gateway-ip, by default the default bridge's gateway).
      return { netnsPath: netns, ip: first?.ip, ip6: first?.ip6, hostGatewayIp: gw, linkHosts: this.linkHosts(rec), internalDns: !!st.dns };
    });
  }

  /**
   * Points the container's 127.0.0.11 at the embedded DNS server on the
   * gateway of its first user-defined bridge network (the host can reach a
   * bridge gateway; a macvlan/ipvlan one is outside). Nothing to do when the
   * container is on no such network, or already has its resolver.
   */
  private async startDns(st: EndpointState): Promise<boolean> {
    if (st.dns) return false;
    const ep = st.endpoints.find((e) => !PREDEFINED.has(e.networkName) && this.nets.get(e.networkId)?.Driver === 'bridge' && e.ip);
    if (!ep) {
      if (!st.endpoints.some((e) => !PREDEFINED.has(e.networkName)) && !this.extraDns?.wants(st.containerId)) return false;
      // Only macvlan/ipvlan user networks (or a swarm task, whose networks the host has no gateway on): serve inside the namespace.
      this.dns.serveInside(st.containerId, await bindInNetns(st.netns, INTERNAL_DNS, 53));
      st.dns = { gateway: '', port: 53, inside: true };
      return true;
    }
    const port = await this.dns.listen(ep.gateway);
    await redirectDns(st.netns, { ifname: ep.ifname, containerIp: ep.ip, gateway: ep.gateway, port });
    st.dns = { gateway: ep.gateway, port };
    return true;
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

  /** What host-gateway means: --host-gateway-ip, else the default bridge's gateway (as dockerd). */
  private defaultGateway(): string {
    return this.ncfg.hostGatewayIp || cidrAddress(this.ncfg.bip);
  }

  private get cniOpts() {
    return { pluginDir: this.ncfg.cniPluginDir };
  }

  /**
   * The CNI chain of an endpoint. `fixed` lists the addresses asked for
   * (--ip, --ip6): docker takes them from the whole subnet, host-local only
   * from its range, so a pool with a fixed address offers the whole subnet.
   */
  private cniNetwork(n: NetworkRecord, withPorts: boolean, fixed: string[] = []): CniNetwork {
    const ranges: Array<Array<Record<string, string>>> = [];
    const routes: Array<{ dst: string }> = [];
    const isolated = n.Internal || (n.Driver !== 'bridge' && !!n.createdParent && !n.createdParent.includes('.'));
    for (const pool of n.IPAM.Config) {
      const v6 = isCidr6(pool.Subnet);
      if (v6 && !n.EnableIPv6) continue;
      const range: Record<string, string> = { subnet: pool.Subnet, gateway: pool.Gateway };
      const pinned = fixed.some((ip) => (v6 ? isIPv6(ip) : isIPv4(ip)));
      if (pool.IPRange && !pinned) {
        if (v6) {
          const b = rangeBounds6(parseCidr6(pool.IPRange));
          range.rangeStart = b.start;
          range.rangeEnd = b.end;
        } else {
          const r = parseCidr(pool.IPRange);
          range.rangeStart = intToIp(r.base + (r.prefix >= 31 ? 0 : 1));
          range.rangeEnd = intToIp(r.base + cidrSize(r) - (r.prefix >= 31 ? 1 : 2));
        }
      }
      ranges.push([range]);
      if (!isolated && !routes.some((r) => r.dst === (v6 ? '::/0' : '0.0.0.0/0'))) routes.push({ dst: v6 ? '::/0' : '0.0.0.0/0' });
    }
    const ipam = { type: 'host-local', ranges, routes, dataDir: this.d.layout.ipamDir };
    const plugins: CniNetwork['plugins'] = [];
    if (n.Driver === 'macvlan' || n.Driver === 'ipvlan') {
      const master = n.Options.parent || n.createdParent!;
      const mode = n.Driver === 'macvlan' ? n.Options.macvlan_mode || 'bridge' : n.Options.ipvlan_mode || 'l2';
      const mtu = Number(n.Options['com.docker.network.driver.mtu'] ?? 0);
      plugins.push({ type: n.Driver, master, mode, ipam, ...(mtu > 0 ? { mtu } : {}) });
    } else {
      const mtu = Number(n.Options['com.docker.network.driver.mtu'] ?? 0);
      plugins.push({
        type: 'bridge',
        bridge: this.bridgeOf(n),
        ...(mtu > 0 ? { mtu } : {}),
        isGateway: true,
        ipMasq: false, // berthd's own POSTROUTING chain masquerades per network
        hairpinMode: true,
        ipam,
      });
    }
    if (withPorts) plugins.push({ type: 'portmap', snat: true, capabilities: { portMappings: true } });
    return { name: n.Name, plugins };
  }

  private async addEndpoint(rec: ContainerRecord, st: EndpointState, n: NetworkRecord, cfg: EndpointConfig, ifname: string, ports: PublishedPort[]): Promise<AttachedEndpoint> {
    // Without iptables (--iptables=false) the held ports proxy in userland: no portmap rules.
    if (!this.ncfg.iptables) ports = [];
    const ip = cfg.IPAMConfig?.IPv4Address;
    const ip6 = n.EnableIPv6 ? cfg.IPAMConfig?.IPv6Address : undefined;
    const fixed = [ip, ip6].filter((x): x is string => !!x);
    const cni = this.cniNetwork(n, ports.length > 0, fixed);
    const runtimeConfig: Record<string, unknown> = {};
    if (fixed.length) runtimeConfig.ips = fixed;
    if (cfg.MacAddress) runtimeConfig.mac = cfg.MacAddress;
    if (Object.keys(runtimeConfig).length) (cni.plugins[0] as Record<string, unknown>).runtimeConfig = runtimeConfig;
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
      if (fixed.length && /already (been )?allocated|requested IP address/.test(msg)) throw badRequest(`Address already in use`);
      throw new Error(`failed to set up container networking: ${msg}`);
    }
    const addr = result.ips?.find((a) => isIPv4(a.address.split('/')[0]!));
    const addr6 = result.ips?.find((a) => isIPv6(a.address.split('/')[0]!));
    const iface = result.interfaces?.find((i) => i.name === ifname && i.sandbox);
    const [ipAddr, prefix] = (addr?.address ?? '/0').split('/');
    const [ip6Addr, prefix6] = (addr6?.address ?? '/0').split('/');
    const aliases = [...(cfg.Aliases ?? [])];
    return {
      networkId: n.Id,
      networkName: n.Name,
      endpointId: randomBytes(32).toString('hex'),
      ifname,
      ip: ipAddr ?? '',
      prefixLen: Number(prefix ?? 0),
      gateway: addr?.gateway ?? '',
      ...(addr6 ? { ip6: ip6Addr, prefixLen6: Number(prefix6 ?? 0), gateway6: addr6.gateway ?? '' } : {}),
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
    this.dns.closeInside(id);
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

  /**
   * A container with an IPv6 address on its first network is published on
   * the host's IPv6 addresses too (portmap maps both families when no host
   * IP is given): each such port is held on [::] as well and listed twice,
   * `0.0.0.0:8080` and `[::]:8080`, as dockerd lists it.
   */
  private async holdIpv6Ports(st: EndpointState): Promise<void> {
    const first = st.endpoints[0];
    if (!first?.ip6) return;
    // The same host port as the IPv4 side (a range was resolved there already).
    const v6 = st.ports.filter((p) => p.hostIp === '0.0.0.0').map(({ hostPort, containerPort, proto }) => ({ hostIp: '::', hostPort, containerPort, proto }));
    if (!v6.length) return;
    const held = await this.holdPorts(v6, st.containerId);
    st.ports.push(...v6);
    this.reservations.get(st.containerId)!.push(...held);
  }

  /** --iptables=false: the held ports forward to the container's address, as docker-proxy does. */
  private proxyPorts(st: EndpointState): void {
    const first = st.endpoints[0];
    const held = this.reservations.get(st.containerId) ?? [];
    held.forEach((r, i) => {
      const ip = st.ports[i]!.hostIp === '::' ? first?.ip6 : first?.ip;
      if (ip) r.forwardTo(ip, st.ports[i]!.containerPort);
    });
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
          const at = p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp;
          if (code === 'EADDRINUSE') throw new Error(`Bind for ${at}:${p.hostPort} failed: port is already allocated`);
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
    // On user-defined networks links are DNS aliases (see linkTarget), and may name containers not running yet.
    if ((rec.hostConfig.NetworkMode ?? 'bridge') !== 'bridge') return out;
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
        IPv6Gateway: ep?.gateway6 ?? '',
        GlobalIPv6Address: ep?.ip6 ?? '',
        GlobalIPv6PrefixLen: ep?.prefixLen6 ?? 0,
        DNSNames: ep && user ? [rec.name.slice(1), rec.id.slice(0, 12), ...(cfg.Aliases ?? [])] : null,
      };
    }
    for (const [name, fields] of Object.entries(this.extraNetworks?.(rec.id, running) ?? {})) nets[name] = { ...blank, ...fields };
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
      GlobalIPv6Address: bridgeEp?.ip6 ?? '',
      GlobalIPv6PrefixLen: bridgeEp?.prefixLen6 ?? 0,
      IPAddress: bridgeEp?.ip ?? '',
      IPPrefixLen: bridgeEp?.prefixLen ?? 0,
      IPv6Gateway: bridgeEp?.gateway6 ?? '',
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

  private asker(who: Asker): EndpointState | undefined {
    if ('containerId' in who) return this.states.get(who.containerId);
    for (const st of this.states.values()) if (st.endpoints.some((e) => e.gateway === who.gateway && e.ip === who.srcIp)) return st;
    return undefined;
  }

  /** Container names, hostnames, short IDs and aliases on the networks the asking container shares; "name.network" too. */
  lookup(who: Asker, name: string): string[] | undefined {
    const me = this.asker(who);
    if (!me) return undefined;
    const extra = this.extraDns?.lookup(me.containerId, name);
    if (extra) return extra;
    const mine = new Set(me.endpoints.filter((e) => !PREDEFINED.has(e.networkName)).map((e) => e.networkId));
    // Legacy links on user networks are aliases only the linking container sees (docker's behaviour).
    name = this.linkTarget(me.containerId, name) ?? name;
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
        if (!hit) continue;
        for (const a of [ep.ip, ep.ip6]) if (a && !out.includes(a)) out.push(a);
      }
    }
    return out.length ? out : undefined;
  }

  /** `--link target:alias` (run or network connect) of the asking container: the target's name for `alias`. */
  private linkTarget(id: string, name: string): string | undefined {
    let rec: ContainerRecord;
    try {
      rec = this.containers!.find(id).rec;
    } catch {
      return undefined;
    }
    const links = [...((rec.hostConfig as { Links?: string[] | null }).Links ?? []), ...Object.values(rec.endpointsConfig ?? {}).flatMap((c) => c.Links ?? [])];
    for (const l of links) {
      const [target, alias] = l.split(':').map((x) => x.replace(/^\//, '').split('/').pop()!);
      if (alias && alias.toLowerCase() === name) return target!.toLowerCase();
    }
    return undefined;
  }

  private hostResolvers?: { at: number; servers: string[] };

  upstream(who: Asker): string[] {
    const st = this.asker(who);
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
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:') || !DRIVERS.has(n.Driver)) {
      throw new ApiError(403, 'container sharing network namespace with another container or host cannot be connected to any other network');
    }
    const eps = this.endpointsOf(c.rec);
    if (eps[n.Name]) throw new ApiError(403, `endpoint with name ${c.rec.name.slice(1)} already exists in network ${n.Name}`);
    const cfg = this.endpointsAtCreate(n.Name, { EndpointsConfig: { [n.Name]: body.EndpointConfig ?? {} } })![n.Name]!;
    await this.serial(async () => {
      const st = this.states.get(c.id);
      if (c.running && st) {
        if (n.EnableIPv6) await disableDad(st.netns);
        const ep = await this.addEndpoint(c.rec, st, n, cfg, `eth${nextIfIndex(st)}`, []);
        st.endpoints.push(ep);
        // A container from the default bridge joining its first user network resolves names from now on.
        const dnsNow = await this.startDns(st).catch((e) => {
          this.d.log('warn', `container ${c.id}: embedded DNS on ${n.Name}: ${errorMessage(e)}`);
          return false;
        });
        await this.saveState(st);
        if (dnsNow) await this.containers!.useEmbeddedDns(c.id);
        this.endpointEvent('connect', ep, c.id);
      }
      c.rec.endpointsConfig = { ...eps, [n.Name]: cfg };
      await this.containers!.save(c.id);
    });
  }

  /**
   * A running container that joined a network outside this service (a swarm
   * overlay by `network connect`) resolves names from now on, as one joining
   * its first user network here does.
   */
  async ensureEmbeddedDns(id: string): Promise<void> {
    await this.serial(async () => {
      const st = this.states.get(id);
      if (!st || !(await this.startDns(st))) return;
      await this.saveState(st);
      await this.containers!.useEmbeddedDns(id);
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
        const vlanLeft = !st.endpoints.some((e) => !PREDEFINED.has(e.networkName) && this.nets.get(e.networkId)?.Driver !== 'bridge');
        if (st.dns?.inside && vlanLeft) {
          this.dns.closeInside(c.id);
          st.dns = undefined;
          await this.startDns(st);
        } else if (st.dns && !st.dns.inside && st.dns.gateway === ep.gateway) {
          // Its 127.0.0.11 pointed at the network it left: point it at another user network's server, if any.
          await clearDnsRedirect(st.netns);
          st.dns = undefined;
          await this.startDns(st);
        }
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
