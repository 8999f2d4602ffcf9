/**
 * The overlay data plane of one node: VXLAN networks between nodes, container
 * endpoints on them, service VIPs and the ingress routing mesh. The swarm
 * control plane decides (which networks, peers, tasks, VIPs; all kept in
 * etcd) and calls this; the driver only makes the kernel match, idempotently.
 *
 * Per network, in the node's namespace: a bridge `<dev>b<vni>` and a VXLAN
 * device `<dev>x<vni>` (nolearning + proxy ARP) enslaved to it. Nothing is
 * learned from the wire: each peer node gets an all-zero fdb entry (flooding
 * of broadcast/unknown), each remote endpoint a static fdb entry (MAC → its
 * node) and a permanent neighbour entry (IP → MAC) the VXLAN device answers
 * ARP from, as docker's overlay driver does. Networks are isolated because
 * their bridges are separate and carry no node address (except the ingress
 * network's, which the node needs to reach tasks for published ports).
 *
 * The driver keeps the desired state of the node in memory; every call
 * updates it and applies the difference. After a crash, `reconcile` takes the
 * whole desired state and removes what is not in it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import { isIPv4 } from 'node:net';
import { parseCidr, contains, parseCidr6, contains6 } from '../ipnet.js';
import { macFromIp } from './allocator.js';
import { NetnsExec, isGone } from './netexec.js';
import {
  type Balance,
  type Names,
  type IngressPortSpec,
  type VipService,
  bridgeName,
  vxlanName,
  hostVethName,
  tempVethName,
  servicesChain,
  ingressChain,
  ingressPostChain,
  forwardChain,
  containerServicesText,
  nodeText,
  nodeJumps,
} from './rules.js';

export interface OverlayDriverOptions {
  /** The node's network namespace file; undefined = the daemon's own namespace. */
  hostNetns?: string;
  /** This node's address that other nodes reach (the VXLAN `local`, docker's --advertise-addr). */
  advertiseAddr: string;
  /** VXLAN UDP port (default 4789, docker's --data-path-port). */
  vxlanPort?: number;
  /** MTU of VXLAN devices and endpoints (default 1450: 1500 less the VXLAN header). */
  mtu?: number;
  /** Device-name prefix, ≤ 6 chars (default `ov`); distinct per daemon sharing a namespace. */
  devicePrefix?: string;
  /** iptables chain prefix (default `OV`). */
  chainPrefix?: string;
  /** How VIPs and published ports spread connections (default `nth`: round robin). */
  balance?: Balance;
}

export interface OverlayNetworkSpec {
  id: string;
  vni: number;
  /** The network's subnet, e.g. 10.0.1.0/24. */
  subnet: string;
  /** Dual stack: its IPv6 subnet (endpoints then have an IPv6 address too). */
  subnet6?: string;
  /**
   * This node's own address on the network (docker's per-node ingress
   * endpoint). Required for the ingress network; other nodes add it with
   * addRemoteEndpoint so replies to SNATed connections find their way back.
   */
  hostAddress?: string;
  /** The network published ports are routed over (one per node). */
  ingress?: boolean;
}

export interface RemoteEndpoint {
  ip: string;
  /** Its IPv6 address on a dual-stack network (same MAC). */
  ip6?: string;
  /** Default: derived from the IP like docker (02:42:…). */
  mac?: string;
  /** The advertise address of the node the endpoint lives on. */
  vtep: string;
}

export interface EndpointSpec {
  /** Unique per node (a container id + network id, a task id). */
  id: string;
  /** The container's network namespace file. */
  netns: string;
  ip: string;
  /** Its IPv6 address on a dual-stack network. */
  ip6?: string;
  mac?: string;
  /** Interface name inside; default: the lowest free ethN. */
  ifname?: string;
  /** Extra destinations routed out of this interface (CIDRs). */
  routes?: string[];
}

export interface AttachResult {
  ifname: string;
  mac: string;
  hostVeth: string;
}

export interface ServiceBackends {
  id: string;
  vip: string;
  /** Task IPs on the network (VIP traffic is spread over them). */
  backends: string[];
}

export type IngressPort = IngressPortSpec;

/** The whole desired state of one node, for reconcile (and what state() returns). */
export interface OverlayState {
  networks: (OverlayNetworkSpec & { peers: string[]; remoteEndpoints: RemoteEndpoint[] })[];
  endpoints: (EndpointSpec & { networkId: string; ifname?: string; mac?: string })[];
  services: (ServiceBackends & { networkId: string })[];
  ingressPorts: IngressPort[];
}

interface NetModel {
  spec: OverlayNetworkSpec;
  peers: Set<string>;
  /** IPv4 address → the remote endpoint. */
  remotes: Map<string, { mac: string; vtep: string; ip6?: string }>;
}

interface EndpointModel {
  networkId: string;
  spec: EndpointSpec;
  ifname: string;
  mac: string;
  hostVeth: string;
}

const ZERO_MAC = '00:00:00:00:00:00';

export class OverlayDriver {
  private readonly host: NetnsExec;
  private readonly names: Names;
  private readonly port: number;
  private readonly mtu: number;
  private readonly balance: Balance;
  private readonly nets = new Map<string, NetModel>();
  private readonly endpoints = new Map<string, EndpointModel>();
  /** `<network>/<service>` → service. */
  private readonly services = new Map<string, VipService>();
  /** `<protocol>/<published port>` → port. */
  private readonly ingress = new Map<string, IngressPort>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Set while a queued operation runs, so converge can call the public operations without waiting on itself. */
  private readonly inQueue = new AsyncLocalStorage<true>();

  constructor(private readonly opts: OverlayDriverOptions) {
    if (!isIPv4(opts.advertiseAddr)) throw new Error(`invalid advertise address ${opts.advertiseAddr}`);
    const dev = opts.devicePrefix ?? 'ov';
    if (!/^[a-z][a-z0-9]{0,5}$/.test(dev)) throw new Error(`invalid overlay device prefix ${dev} (1-6 lower-case letters and digits)`);
    const chain = opts.chainPrefix ?? 'OV';
    if (!/^[A-Za-z][A-Za-z0-9_]{0,11}$/.test(chain)) throw new Error(`invalid overlay chain prefix ${chain}`);
    this.names = { dev, chain };
    this.host = new NetnsExec(opts.hostNetns);
    this.port = opts.vxlanPort ?? 4789;
    this.mtu = opts.mtu ?? 1450;
    this.balance = opts.balance ?? 'nth';
  }

  /** The device names of a network on this node (for inspect output and tests). */
  devices(vni: number): { bridge: string; vxlan: string } {
    return { bridge: bridgeName(this.names, vni), vxlan: vxlanName(this.names, vni) };
  }

  /** Creates (or confirms) the network's bridge and VXLAN device on this node. */
  ensureNetwork(spec: OverlayNetworkSpec): Promise<void> {
    return this.serial(async () => {
      validateNetwork(spec);
      for (const [id, n] of this.nets) {
        if (id !== spec.id && n.spec.vni === spec.vni) throw new Error(`VNI ${spec.vni} is already used by network ${id}`);
        if (id !== spec.id && spec.ingress && n.spec.ingress) throw new Error(`network ${id} is already the ingress network`);
      }
      const have = this.nets.get(spec.id);
      const oldAddr = have?.spec.hostAddress;
      if (oldAddr && oldAddr !== spec.hostAddress) {
        await this.host.ip(['addr', 'del', `${oldAddr}/${parseCidr(have.spec.subnet).prefix}`, 'dev', bridgeName(this.names, have.spec.vni)]).catch(ignoreGone);
      }
      await this.createDevices(spec);
      if (have) have.spec = spec;
      else this.nets.set(spec.id, { spec, peers: new Set(), remotes: new Map() });
      await this.syncNode();
    });
  }

  /** Removes the network's devices, its endpoints on this node and its services' rules. */
  removeNetwork(id: string): Promise<void> {
    return this.serial(async () => {
      const net = this.nets.get(id);
      const touched = new Set<string>();
      for (const [eid, ep] of this.endpoints) {
        if (ep.networkId !== id) continue;
        await this.deleteLink(ep.hostVeth);
        this.endpoints.delete(eid);
        touched.add(ep.spec.netns);
      }
      for (const [k, s] of this.services) if (s.networkId === id) this.services.delete(k);
      if (net) {
        await this.deleteLink(vxlanName(this.names, net.spec.vni));
        await this.deleteLink(bridgeName(this.names, net.spec.vni));
        if (net.spec.ingress) this.ingress.clear();
      }
      this.nets.delete(id);
      for (const ns of touched) await this.syncContainer(ns);
      await this.syncNode();
    });
  }

  /** Another node takes part in the network: broadcast and unknown traffic is flooded to it. */
  addPeer(networkId: string, vtep: string): Promise<void> {
    return this.serial(async () => {
      const net = this.mustNet(networkId);
      if (!isIPv4(vtep)) throw new Error(`invalid peer address ${vtep}`);
      if (vtep === this.opts.advertiseAddr) return;
      // `append` of an entry that exists is a no-op, so this is idempotent.
      await this.host.bridge(['fdb', 'append', ZERO_MAC, 'dev', vxlanName(this.names, net.spec.vni), 'dst', vtep, 'self', 'permanent']);
      net.peers.add(vtep);
    });
  }

  removePeer(networkId: string, vtep: string): Promise<void> {
    return this.serial(async () => {
      const net = this.nets.get(networkId);
      if (!net) return;
      await this.host.bridge(['fdb', 'del', ZERO_MAC, 'dev', vxlanName(this.names, net.spec.vni), 'dst', vtep, 'self']).catch(ignoreGone);
      net.peers.delete(vtep);
    });
  }

  /** A container (or node ingress address) on another node: static fdb + neighbour entries, no learning needed. */
  addRemoteEndpoint(networkId: string, ep: RemoteEndpoint): Promise<void> {
    return this.serial(async () => {
      const net = this.mustNet(networkId);
      if (!isIPv4(ep.ip) || !isIPv4(ep.vtep)) throw new Error(`invalid remote endpoint ${ep.ip} on ${ep.vtep}`);
      if (ep.ip6 && !(net.spec.subnet6 && contains6(parseCidr6(net.spec.subnet6), ep.ip6))) throw new Error(`address ${ep.ip6} is not in the IPv6 subnet of network ${networkId}`);
      const mac = (ep.mac ?? macFromIp(ep.ip)).toLowerCase();
      const vx = vxlanName(this.names, net.spec.vni);
      const old = net.remotes.get(ep.ip);
      if (old && old.mac !== mac) await this.host.bridge(['fdb', 'del', old.mac, 'dev', vx, 'self']).catch(ignoreGone);
      if (old?.ip6 && old.ip6 !== ep.ip6) await this.host.ip(['-6', 'neigh', 'del', old.ip6, 'dev', vx]).catch(ignoreGone);
      await this.host.bridge(['fdb', 'replace', mac, 'dev', vx, 'dst', ep.vtep, 'self', 'permanent']);
      await this.host.ip(['neigh', 'replace', ep.ip, 'lladdr', mac, 'dev', vx, 'nud', 'permanent']);
      // The VXLAN device answers neighbour solicitations from these (proxy), as it answers ARP.
      if (ep.ip6) await this.host.ip(['-6', 'neigh', 'replace', ep.ip6, 'lladdr', mac, 'dev', vx, 'nud', 'permanent']);
      net.remotes.set(ep.ip, { mac, vtep: ep.vtep, ...(ep.ip6 ? { ip6: ep.ip6 } : {}) });
    });
  }

  removeRemoteEndpoint(networkId: string, ip: string): Promise<void> {
    return this.serial(async () => {
      const net = this.nets.get(networkId);
      const old = net?.remotes.get(ip);
      if (!net || !old) return;
      const vx = vxlanName(this.names, net.spec.vni);
      await this.host.ip(['neigh', 'del', ip, 'dev', vx]).catch(ignoreGone);
      if (old.ip6) await this.host.ip(['-6', 'neigh', 'del', old.ip6, 'dev', vx]).catch(ignoreGone);
      await this.host.bridge(['fdb', 'del', old.mac, 'dev', vx, 'self']).catch(ignoreGone);
      net.remotes.delete(ip);
    });
  }

  /** Connects a container's namespace to the network with a veth into the network's bridge. */
  attach(networkId: string, ep: EndpointSpec): Promise<AttachResult> {
    return this.serial(async () => {
      const net = this.mustNet(networkId);
      const have = this.endpoints.get(ep.id);
      if (have) {
        if (have.networkId !== networkId) throw new Error(`endpoint ${ep.id} is attached to network ${have.networkId}`);
        if (await this.linkExists(have.hostVeth)) return { ifname: have.ifname, mac: have.mac, hostVeth: have.hostVeth };
      }
      const m = await this.plugVeth(net, ep);
      this.endpoints.set(ep.id, m);
      await this.syncContainer(ep.netns);
      return { ifname: m.ifname, mac: m.mac, hostVeth: m.hostVeth };
    });
  }

  /** Disconnects an endpoint; its interface and the VIP rules it needed go. A vanished container is fine. */
  detach(networkId: string, endpointId: string): Promise<void> {
    return this.serial(async () => {
      const ep = this.endpoints.get(endpointId);
      if (!ep || ep.networkId !== networkId) return;
      await this.deleteLink(ep.hostVeth);
      this.endpoints.delete(endpointId);
      await this.syncContainer(ep.spec.netns);
    });
  }

  /**
   * Sets a service's VIP and its task IPs on a network: every local
   * container on that network then reaches the tasks through the VIP.
   * Replacing the backends is one iptables-restore per container.
   */
  setServiceBackends(networkId: string, svc: ServiceBackends): Promise<void> {
    return this.serial(async () => {
      const net = this.mustNet(networkId);
      for (const ip of [svc.vip, ...svc.backends]) if (!isIPv4(ip)) throw new Error(`invalid address ${ip} for service ${svc.id}`);
      if (!contains(parseCidr(net.spec.subnet), svc.vip)) throw new Error(`VIP ${svc.vip} is not in the subnet ${net.spec.subnet} of network ${networkId}`);
      const old = this.services.get(`${networkId}/${svc.id}`);
      this.services.set(`${networkId}/${svc.id}`, { networkId, serviceId: svc.id, vip: svc.vip, backends: [...svc.backends] });
      await this.syncNetworkContainers(networkId);
      if (old) await this.forgetUdpFlows(networkId, old.vip, old.backends.filter((b) => old.vip !== svc.vip || !svc.backends.includes(b)));
    });
  }

  removeService(networkId: string, serviceId: string): Promise<void> {
    return this.serial(async () => {
      const old = this.services.get(`${networkId}/${serviceId}`);
      if (!old) return;
      this.services.delete(`${networkId}/${serviceId}`);
      await this.syncNetworkContainers(networkId);
      await this.forgetUdpFlows(networkId, old.vip, old.backends);
    });
  }

  /**
   * Publishes a port on this node (routing mesh): connections to any local
   * address on `publishedPort` go to the backends (task IPs on the ingress
   * network) on `targetPort`, SNATed to the node's ingress address.
   */
  setIngressPort(port: IngressPort): Promise<void> {
    return this.serial(async () => {
      if (port.protocol !== 'tcp' && port.protocol !== 'udp') throw new Error(`invalid protocol ${String(port.protocol)}`);
      for (const p of [port.publishedPort, port.targetPort]) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`invalid port ${p}`);
      for (const ip of port.backends) if (!isIPv4(ip)) throw new Error(`invalid backend address ${ip}`);
      const old = this.ingress.get(`${port.protocol}/${port.publishedPort}`);
      this.ingress.set(`${port.protocol}/${port.publishedPort}`, { ...port, backends: [...port.backends] });
      await this.syncNode();
      if (old && port.protocol === 'udp') await this.forgetIngressUdpFlows(port.publishedPort, old.backends.filter((b) => !port.backends.includes(b)));
    });
  }

  removeIngressPort(protocol: 'tcp' | 'udp', publishedPort: number): Promise<void> {
    return this.serial(async () => {
      const old = this.ingress.get(`${protocol}/${publishedPort}`);
      if (!old) return;
      this.ingress.delete(`${protocol}/${publishedPort}`);
      await this.syncNode();
      if (protocol === 'udp') await this.forgetIngressUdpFlows(publishedPort, old.backends);
    });
  }

  /** The desired state the driver holds now (what a reconcile with it would keep). */
  state(): OverlayState {
    return {
      networks: [...this.nets.values()].map((n) => ({
        ...n.spec,
        peers: [...n.peers],
        remoteEndpoints: [...n.remotes].map(([ip, r]) => ({ ip, ...(r.ip6 ? { ip6: r.ip6 } : {}), mac: r.mac, vtep: r.vtep })),
      })),
      endpoints: [...this.endpoints.values()].map((e) => ({ ...e.spec, networkId: e.networkId, ifname: e.ifname, mac: e.mac })),
      services: [...this.services.values()].map((s) => ({ networkId: s.networkId, id: s.serviceId, vip: s.vip, backends: [...s.backends] })),
      ingressPorts: [...this.ingress.values()].map((p) => ({ ...p, backends: [...p.backends] })),
    };
  }

  /**
   * Makes the node match `desired` exactly (after a crash or restart):
   * devices, fdb and neighbour entries, endpoints and iptables rules this
   * driver owns that are not in it are removed; missing ones are created.
   * Tries everything, then throws one error naming what failed.
   */
  reconcile(desired: OverlayState): Promise<void> {
    return this.serial(async () => {
      const errors: string[] = [];
      const attempt = async (what: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (e) {
          errors.push(`${what}: ${(e as Error).message}`);
        }
      };
      this.nets.clear();
      this.endpoints.clear();
      this.services.clear();
      this.ingress.clear();
      for (const n of desired.networks) {
        validateNetwork(n);
        this.nets.set(n.id, {
          spec: { id: n.id, vni: n.vni, subnet: n.subnet, subnet6: n.subnet6, hostAddress: n.hostAddress, ingress: n.ingress },
          peers: new Set(n.peers.filter((p) => p !== this.opts.advertiseAddr)),
          remotes: new Map(n.remoteEndpoints.map((r) => [r.ip, { mac: (r.mac ?? macFromIp(r.ip)).toLowerCase(), vtep: r.vtep, ...(r.ip6 ? { ip6: r.ip6 } : {}) }])),
        });
      }
      for (const s of desired.services) this.services.set(`${s.networkId}/${s.id}`, { networkId: s.networkId, serviceId: s.id, vip: s.vip, backends: [...s.backends] });
      for (const p of desired.ingressPorts) this.ingress.set(`${p.protocol}/${p.publishedPort}`, { ...p, backends: [...p.backends] });

      // Devices this driver owns but the state does not want.
      const keep = new Set<string>();
      for (const n of this.nets.values()) keep.add(bridgeName(this.names, n.spec.vni)).add(vxlanName(this.names, n.spec.vni));
      for (const e of desired.endpoints) keep.add(hostVethName(this.names, e.id));
      const owned = new RegExp(`^${this.names.dev}(b\\d+|x\\d+|v[0-9a-f]{8}|t[0-9a-f]{8})$`);
      for (const link of await this.links()) if (owned.test(link) && !keep.has(link)) await attempt(`removing ${link}`, () => this.deleteLink(link));

      for (const n of this.nets.values()) {
        await attempt(`network ${n.spec.id}`, async () => {
          await this.createDevices(n.spec);
          await this.syncForwarding(n);
        });
      }
      for (const e of desired.endpoints) {
        const net = this.nets.get(e.networkId);
        if (!net) {
          errors.push(`endpoint ${e.id}: network ${e.networkId} is not in the desired state`);
          continue;
        }
        await attempt(`endpoint ${e.id}`, async () => {
          const hostVeth = hostVethName(this.names, e.id);
          const spec: EndpointSpec = { id: e.id, netns: e.netns, ip: e.ip, ip6: e.ip6, mac: e.mac, ifname: e.ifname, routes: e.routes };
          if (await this.linkExists(hostVeth)) {
            // Still plugged: make sure it hangs off the right bridge and is up.
            await this.host.ip(['link', 'set', hostVeth, 'master', bridgeName(this.names, net.spec.vni), 'up']);
            this.endpoints.set(e.id, { networkId: e.networkId, spec, ifname: e.ifname ?? 'eth0', mac: (e.mac ?? macFromIp(e.ip)).toLowerCase(), hostVeth });
          } else if (isNetns(e.netns)) {
            this.endpoints.set(e.id, await this.plugVeth(net, spec));
          } else {
            throw new Error(`its namespace ${e.netns} is gone`);
          }
        });
      }
      for (const ns of new Set([...this.endpoints.values()].map((e) => e.spec.netns))) await attempt(`service rules in ${ns}`, () => this.syncContainer(ns));
      await attempt('node rules', () => this.syncNode());
      if (errors.length) throw new Error(`overlay reconcile: ${errors.join('; ')}`);
    });
  }

  /**
   * Moves the node from the state the driver holds to `desired` with the
   * individual operations (only what differs is touched): what a node agent
   * calls on every change of the cluster (see plan.ts). Goes on past a failed
   * step and throws one error naming them all at the end.
   */
  converge(desired: OverlayState): Promise<void> {
    return this.serial(async () => {
      const errors: string[] = [];
      const attempt = async (what: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (e) {
          errors.push(`${what}: ${(e as Error).message}`);
        }
      };
      const wantNets = new Map(desired.networks.map((n) => [n.id, n]));
      for (const id of [...this.nets.keys()]) if (!wantNets.has(id)) await attempt(`removing network ${id}`, () => this.removeNetwork(id));
      for (const n of desired.networks) {
        await attempt(`network ${n.id}`, async () => {
          const spec: OverlayNetworkSpec = { id: n.id, vni: n.vni, subnet: n.subnet, subnet6: n.subnet6, hostAddress: n.hostAddress, ingress: n.ingress };
          const have = this.nets.get(n.id);
          if (have && have.spec.vni !== n.vni) await this.removeNetwork(n.id);
          const cur = this.nets.get(n.id);
          if (!cur || cur.spec.subnet !== spec.subnet || cur.spec.subnet6 !== spec.subnet6 || cur.spec.hostAddress !== spec.hostAddress || !!cur.spec.ingress !== !!spec.ingress) await this.ensureNetwork(spec);
          const net = this.mustNet(n.id);
          const peers = new Set(n.peers.filter((p) => p !== this.opts.advertiseAddr));
          for (const p of [...net.peers]) if (!peers.has(p)) await this.removePeer(n.id, p);
          for (const p of peers) if (!net.peers.has(p)) await this.addPeer(n.id, p);
          const remotes = new Map(n.remoteEndpoints.map((r) => [r.ip, { mac: (r.mac ?? macFromIp(r.ip)).toLowerCase(), vtep: r.vtep, ip6: r.ip6 }]));
          for (const ip of [...net.remotes.keys()]) if (!remotes.has(ip)) await this.removeRemoteEndpoint(n.id, ip);
          for (const [ip, r] of remotes) {
            const h = net.remotes.get(ip);
            if (!h || h.mac !== r.mac || h.vtep !== r.vtep || h.ip6 !== r.ip6) await this.addRemoteEndpoint(n.id, { ip, ...r });
          }
        });
      }
      const wantEps = new Map(desired.endpoints.map((e) => [e.id, e]));
      for (const [id, e] of [...this.endpoints]) {
        const w = wantEps.get(id);
        const same = w && w.networkId === e.networkId && w.ip === e.spec.ip && w.ip6 === e.spec.ip6 && w.netns === e.spec.netns && (!w.mac || w.mac.toLowerCase() === e.mac);
        if (!same) await attempt(`detaching ${id}`, () => this.detach(e.networkId, id));
      }
      for (const e of desired.endpoints) {
        if (this.endpoints.has(e.id)) continue;
        await attempt(`attaching ${e.id}`, () => this.attach(e.networkId, { id: e.id, netns: e.netns, ip: e.ip, ip6: e.ip6, mac: e.mac, ifname: e.ifname, routes: e.routes }));
      }
      const wantSvcs = new Map(desired.services.map((s) => [`${s.networkId}/${s.id}`, s]));
      for (const [k, s] of [...this.services]) if (!wantSvcs.has(k)) await attempt(`removing service ${k}`, () => this.removeService(s.networkId, s.serviceId));
      for (const [k, s] of wantSvcs) {
        const h = this.services.get(k);
        if (h && h.vip === s.vip && sameSet(h.backends, s.backends)) continue;
        await attempt(`service ${k}`, () => this.setServiceBackends(s.networkId, { id: s.id, vip: s.vip, backends: s.backends }));
      }
      const wantPorts = new Map(desired.ingressPorts.map((p) => [`${p.protocol}/${p.publishedPort}`, p]));
      for (const [k, p] of [...this.ingress]) if (!wantPorts.has(k)) await attempt(`unpublishing ${k}`, () => this.removeIngressPort(p.protocol, p.publishedPort));
      for (const [k, p] of wantPorts) {
        const h = this.ingress.get(k);
        if (h && h.targetPort === p.targetPort && sameSet(h.backends, p.backends)) continue;
        await attempt(`publishing ${k}`, () => this.setIngressPort(p));
      }
      if (errors.length) throw new Error(`overlay converge: ${errors.join('; ')}`);
    });
  }

  /** Removes everything this driver made on the node (all networks, endpoints and rules). */
  async removeAll(): Promise<void> {
    await this.reconcile({ networks: [], endpoints: [], services: [], ingressPorts: [] });
  }

  // ---- internals (run inside serial) ----

  /** Operations run one at a time: each reads and changes the model and the kernel together. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inQueue.getStore()) return fn();
    const go = () => this.inQueue.run(true, fn);
    const run = this.queue.then(go, go);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private mustNet(id: string): NetModel {
    const n = this.nets.get(id);
    if (!n) throw new Error(`network ${id} not found`);
    return n;
  }

  private async createDevices(spec: OverlayNetworkSpec): Promise<void> {
    const br = bridgeName(this.names, spec.vni);
    const vx = vxlanName(this.names, spec.vni);
    if (!(await this.linkExists(br))) await this.host.ip(['link', 'add', br, 'type', 'bridge']).catch(ignoreExists);
    if (!(await this.linkExists(vx))) {
      await this.host
        .ip(['link', 'add', vx, 'type', 'vxlan', 'id', String(spec.vni), 'dstport', String(this.port), 'local', this.opts.advertiseAddr, 'nolearning', 'proxy'])
        .catch(ignoreExists);
    }
    const prefix = parseCidr(spec.subnet).prefix;
    const lines = [`link set ${vx} mtu ${this.mtu} master ${br} up`];
    if (spec.hostAddress) lines.push(`link set ${br} address ${macFromIp(spec.hostAddress)}`, `addr replace ${spec.hostAddress}/${prefix} dev ${br}`);
    lines.push(`link set ${br} mtu ${this.mtu} up`);
    await this.host.ipBatch(lines);
    if (spec.ingress) {
      // The node routes published-port traffic onto the ingress network, also
      // what was sent to 127.0.0.1 (DNATed, it leaves with a loopback source until MASQUERADE).
      await this.host.sysctl('net/ipv4/ip_forward', '1');
      await this.host.sysctl(`net/ipv4/conf/${br}/route_localnet`, '1');
    }
  }

  private async plugVeth(net: NetModel, ep: EndpointSpec): Promise<EndpointModel> {
    if (!isIPv4(ep.ip) || !contains(parseCidr(net.spec.subnet), ep.ip)) throw new Error(`address ${ep.ip} is not in the subnet ${net.spec.subnet} of network ${net.spec.id}`);
    if (ep.ip6 && !(net.spec.subnet6 && contains6(parseCidr6(net.spec.subnet6), ep.ip6))) throw new Error(`address ${ep.ip6} is not in the IPv6 subnet of network ${net.spec.id}`);
    if (!/^\/[\w./@:+-]+$/.test(ep.netns) || !isNetns(ep.netns)) throw new Error(`network namespace ${ep.netns} not found`);
    const ctr = new NetnsExec(ep.netns);
    const hostVeth = hostVethName(this.names, ep.id);
    const temp = tempVethName(this.names, ep.id);
    const mac = (ep.mac ?? macFromIp(ep.ip)).toLowerCase();
    const ifname = ep.ifname ?? (await this.freeIfname(ctr));
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(ifname)) throw new Error(`invalid interface name ${ifname}`);
    // A half-made veth from an earlier failed try is in the way.
    await this.deleteLink(hostVeth);
    await this.deleteLink(temp);
    await this.host.ip(['link', 'add', hostVeth, 'mtu', String(this.mtu), 'type', 'veth', 'peer', 'name', temp, 'mtu', String(this.mtu)]);
    try {
      await this.host.ipBatch([`link set ${temp} netns ${ep.netns}`, `link set ${hostVeth} master ${bridgeName(this.names, net.spec.vni)} up`]);
      const prefix = parseCidr(net.spec.subnet).prefix;
      await ctr.ipBatch([
        `link set ${temp} name ${ifname}`,
        `link set ${ifname} address ${mac}`,
        `addr add ${ep.ip}/${prefix} dev ${ifname}`,
        // No duplicate address detection: the managers hand each address out once (as dockerd's nodad).
        ...(ep.ip6 ? [`addr add ${ep.ip6}/${parseCidr6(net.spec.subnet6!).prefix} dev ${ifname} nodad`] : []),
        `link set ${ifname} up`,
        'link set lo up',
        ...(ep.routes ?? []).map((r) => `route replace ${r} dev ${ifname}`),
      ]);
    } catch (e) {
      await this.deleteLink(hostVeth).catch(() => undefined);
      throw e;
    }
    return { networkId: net.spec.id, spec: { ...ep }, ifname, mac, hostVeth };
  }

  private async freeIfname(ctr: NetnsExec): Promise<string> {
    const used = new Set((await ctr.ip(['-o', 'link', 'show'])).split('\n').map((l) => l.split(': ')[1]?.split('@')[0]));
    for (let i = 0; i < 1000; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
    throw new Error('no free ethN interface name in the container');
  }

  /** Makes the VXLAN device's fdb and neighbour tables exactly the model's (reconcile). */
  private async syncForwarding(net: NetModel): Promise<void> {
    const vx = vxlanName(this.names, net.spec.vni);
    const fdb = JSON.parse((await this.host.bridge(['-j', 'fdb', 'show', 'dev', vx])) || '[]') as { mac: string; dst?: string; flags?: string[] }[];
    const wantFdb = new Set([...[...net.peers].map((p) => `${ZERO_MAC} ${p}`), ...[...net.remotes.values()].map((r) => `${r.mac} ${r.vtep}`)]);
    for (const e of fdb) {
      if (!e.dst || !(e.flags ?? []).includes('self')) continue;
      const key = `${e.mac.toLowerCase()} ${e.dst}`;
      if (wantFdb.has(key)) wantFdb.delete(key);
      else await this.host.bridge(['fdb', 'del', e.mac, 'dev', vx, 'dst', e.dst, 'self']).catch(ignoreGone);
    }
    for (const key of wantFdb) {
      const [mac, dst] = key.split(' ') as [string, string];
      await this.host.bridge(['fdb', mac === ZERO_MAC ? 'append' : 'replace', mac, 'dev', vx, 'dst', dst, 'self', 'permanent']);
    }
    const wantV6 = new Set([...net.remotes.values()].map((r) => r.ip6).filter((x): x is string => !!x));
    for (const fam of ['-4', '-6']) {
      const neigh = JSON.parse((await this.host.ip(['-j', fam, 'neigh', 'show', 'dev', vx])) || '[]') as { dst: string; lladdr?: string; state?: string[] }[];
      for (const e of neigh) {
        // Link-local entries (fe80::) are the kernel's own, not ours.
        if (fam === '-6' && (wantV6.has(e.dst) || !(e.state ?? []).includes('PERMANENT'))) continue;
        if (fam === '-4' && net.remotes.has(e.dst)) continue;
        await this.host.ip([fam, 'neigh', 'del', e.dst, 'dev', vx]).catch(ignoreGone);
      }
    }
    for (const [ip, r] of net.remotes) {
      await this.host.ip(['neigh', 'replace', ip, 'lladdr', r.mac, 'dev', vx, 'nud', 'permanent']);
      if (r.ip6) await this.host.ip(['-6', 'neigh', 'replace', r.ip6, 'lladdr', r.mac, 'dev', vx, 'nud', 'permanent']);
    }
  }

  private async syncNetworkContainers(networkId: string): Promise<void> {
    const nss = [...new Set([...this.endpoints.values()].filter((e) => e.networkId === networkId).map((e) => e.spec.netns))];
    // Namespaces are independent: a few at a time (each is a couple of short processes).
    const errors: string[] = [];
    const worker = async () => {
      for (let ns = nss.shift(); ns !== undefined; ns = nss.shift()) await this.syncContainer(ns).catch((e: Error) => errors.push(`${ns}: ${e.message}`));
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (errors.length) throw new Error(`service rules: ${errors.join('; ')}`);
  }

  /**
   * UDP has no end: a flow NATed to a backend that left would keep going
   * there until its conntrack entry times out, so drop those entries (as
   * kube-proxy does). TCP needs none: new connections take the new rules.
   */
  private async forgetUdpFlows(networkId: string, vip: string, gone: string[]): Promise<void> {
    if (!gone.length) return;
    const nss = new Set([...this.endpoints.values()].filter((e) => e.networkId === networkId).map((e) => e.spec.netns));
    for (const ns of nss) {
      if (!isNetns(ns)) continue;
      for (const b of gone) await new NetnsExec(ns).conntrackDelete(['-p', 'udp', '--orig-dst', vip, '--reply-src', b]);
    }
  }

  private async forgetIngressUdpFlows(publishedPort: number, gone: string[]): Promise<void> {
    for (const b of gone) await this.host.conntrackDelete(['-p', 'udp', '--orig-port-dst', String(publishedPort), '--reply-src', b]);
  }

  /** Rewrites the VIP rules inside one container namespace from the model (none left when it needs none). */
  private async syncContainer(netns: string): Promise<void> {
    // A container being torn down may have left the file but not the namespace.
    if (!isNetns(netns)) return;
    const ctr = new NetnsExec(netns);
    const nets = new Set([...this.endpoints.values()].filter((e) => e.spec.netns === netns).map((e) => e.networkId));
    const services = [...this.services.values()].filter((s) => nets.has(s.networkId));
    const top = servicesChain(this.names);
    const listing = await ctr.iptables(['-t', 'nat', '-S']);
    const existing = parseChains(listing, `${this.names.chain}-S-`);
    const jump = ['OUTPUT', '-j', top];
    const hasJump = listing.includes(`-A OUTPUT -j ${top}\n`);
    if (services.length === 0) {
      if (hasJump) await ctr.iptables(['-t', 'nat', '-D', ...jump]);
      if (existing.length || listing.includes(`-N ${top}\n`)) {
        await ctr.iptablesRestore(['*nat', `:${top} - [0:0]`, ...existing.map((c) => `:${c} - [0:0]`), ...existing.map((c) => `-X ${c}`), `-X ${top}`, 'COMMIT', ''].join('\n'));
      }
      return;
    }
    await ctr.iptablesRestore(containerServicesText(this.names, services, existing, this.balance));
    if (!hasJump) await ctr.iptables(['-t', 'nat', '-I', 'OUTPUT', '1', '-j', top]);
  }

  /** Rewrites the node's ingress and forwarding rules from the model (none left without networks). */
  private async syncNode(): Promise<void> {
    const ingressNet = [...this.nets.values()].find((n) => n.spec.ingress);
    const bridges = [...this.nets.values()].map((n) => bridgeName(this.names, n.spec.vni));
    const all = await this.host.iptables(['-t', 'nat', '-S']);
    const stale = parseChains(all, `${this.names.chain}-I-`);
    const jumps = nodeJumps(this.names);
    if (this.nets.size === 0) {
      // A jump inserted twice (by a crashed earlier run) is removed as often as it is there, within reason.
      for (const [table, from, rule] of jumps) {
        for (let i = 0; i < 10 && (await this.host.iptables(['-t', table, '-D', from, ...rule]).then(() => true, () => false)); i++);
      }
      const natChains = [...stale, ...[ingressChain(this.names), ingressPostChain(this.names)].filter((c) => all.includes(`-N ${c}\n`))];
      const filterAll = await this.host.iptables(['-t', 'filter', '-S']);
      const fwd = forwardChain(this.names);
      const text = ['*nat', ...natChains.map((c) => `:${c} - [0:0]`), ...natChains.map((c) => `-X ${c}`), 'COMMIT'];
      text.push('*filter', ...(filterAll.includes(`-N ${fwd}\n`) ? [`:${fwd} - [0:0]`, `-X ${fwd}`] : []), 'COMMIT', '');
      await this.host.iptablesRestore(text.join('\n'));
      return;
    }
    const ports = ingressNet ? [...this.ingress.values()] : [];
    await this.host.iptablesRestore(
      nodeText(this.names, ports, { bridges, ingressBridge: ingressNet && bridgeName(this.names, ingressNet.spec.vni) }, stale, this.balance),
    );
    for (const [table, from, rule] of jumps) {
      const present = await this.host.iptables(['-t', table, '-C', from, ...rule]).then(
        () => true,
        () => false,
      );
      if (!present) await this.host.iptables(['-t', table, '-I', from, '1', ...rule]);
    }
  }

  private async links(): Promise<string[]> {
    return (await this.host.ip(['-o', 'link', 'show']))
      .split('\n')
      .map((l) => l.split(': ')[1]?.split('@')[0])
      .filter((n): n is string => !!n);
  }

  private async linkExists(name: string): Promise<boolean> {
    return this.host.ip(['link', 'show', 'dev', name]).then(
      () => true,
      () => false,
    );
  }

  private async deleteLink(name: string): Promise<void> {
    await this.host.ip(['link', 'del', name]).catch(ignoreGone);
  }
}

/** True when `file` is a namespace (nsfs, like /proc/self/ns/net), not a leftover plain file. */
function isNetns(file: string): boolean {
  try {
    return fs.statSync(file).dev === fs.statSync('/proc/self/ns/net').dev;
  } catch {
    return false;
  }
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
}

function validateNetwork(spec: OverlayNetworkSpec): void {
  if (!Number.isInteger(spec.vni) || spec.vni < 1 || spec.vni > 0xffffff) throw new Error(`invalid VNI ${spec.vni}`);
  const subnet = parseCidr(spec.subnet);
  if (spec.subnet6) parseCidr6(spec.subnet6);
  if (spec.hostAddress && (!isIPv4(spec.hostAddress) || !contains(subnet, spec.hostAddress)))
    throw new Error(`node address ${spec.hostAddress} is not in the subnet ${spec.subnet} of network ${spec.id}`);
  if (spec.ingress && !spec.hostAddress) throw new Error(`the ingress network ${spec.id} needs the node's address on it`);
}

/** Names of chains declared in `iptables -S` output that start with `prefix`. */
function parseChains(listing: string, prefix: string): string[] {
  return listing
    .split('\n')
    .filter((l) => l.startsWith(`-N ${prefix}`))
    .map((l) => l.slice(3).trim());
}

function ignoreGone(e: unknown): void {
  if (!isGone(e)) throw e;
}

function ignoreExists(e: unknown): void {
  if (!/File exists/.test((e as Error).message)) throw e;
}
