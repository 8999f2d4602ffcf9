/**
 * From the cluster's view (what the control plane keeps in etcd) to what one
 * node's data plane must hold: which overlay networks exist on the node, its
 * peers and the remote endpoints on each, its local endpoints, the VIPs its
 * containers see and the ports it publishes. Pure; a node agent feeds the
 * result to OverlayDriver.converge (or reconcile after a restart) whenever the
 * cluster changes, so the data plane is level-triggered: no event is lost.
 */
import type { OverlayState, IngressPort } from './driver.js';

export interface ClusterNetwork {
  id: string;
  vni: number;
  subnet: string;
  /** Dual stack: the network's IPv6 subnet. */
  subnet6?: string;
  /** The routing-mesh network: on every node that has an address on it. */
  ingress?: boolean;
  /** node id → that node's own address on the network (the ingress network needs one per node). */
  nodeAddresses?: Record<string, string>;
}

export interface ClusterNode {
  id: string;
  /** Advertise address (the VTEP other nodes send VXLAN to). */
  addr: string;
  /** For display only (`network inspect`'s Peers). */
  hostname?: string;
}

export interface ClusterEndpoint {
  /** Unique in the cluster (e.g. `<task id>/<network id>`). */
  id: string;
  networkId: string;
  nodeId: string;
  ip: string;
  /** Its IPv6 address on a dual-stack network. */
  ip6?: string;
  mac?: string;
  /** The container's netns file; needed only on its own node. Without it the endpoint is not plugged yet. */
  netns?: string;
  /** The service whose task this is; its VIP and published ports lead here. */
  serviceId?: string;
  /** Tasks not running (yet, or any more) receive no traffic. Default true. */
  ready?: boolean;
  /** The task's container name (`<service>.<slot>.<task id>`), which resolves to `ip` on the network. */
  name?: string;
  /** A plain container's network-scoped aliases, which resolve to `ip` on the network too. */
  aliases?: string[];
}

export interface ClusterService {
  id: string;
  /** `vip` (default) or `dnsrr` (no VIP: DNS returns the task IPs). */
  endpointMode?: 'vip' | 'dnsrr';
  /** network id → the service's VIP on it. */
  vips?: Record<string, string>;
  /** Published ports (ingress mode). */
  ports?: { protocol: 'tcp' | 'udp'; publishedPort: number; targetPort: number }[];
}

export interface ClusterView {
  nodes: ClusterNode[];
  networks: ClusterNetwork[];
  endpoints: ClusterEndpoint[];
  services: ClusterService[];
}

/** The desired overlay state of node `nodeId`. */
export function planNode(nodeId: string, view: ClusterView): OverlayState {
  const self = view.nodes.find((n) => n.id === nodeId);
  if (!self) throw new Error(`node ${nodeId} not found`);
  const addrOf = new Map(view.nodes.map((n) => [n.id, n.addr]));
  // A network exists on a node that has an endpoint on it, or (ingress) an address on it.
  const nodesOf = (net: ClusterNetwork): Set<string> => {
    const s = new Set(view.endpoints.filter((e) => e.networkId === net.id).map((e) => e.nodeId));
    for (const n of Object.keys(net.nodeAddresses ?? {})) s.add(n);
    return new Set([...s].filter((n) => addrOf.has(n)));
  };
  const here = view.networks.filter((n) => nodesOf(n).has(nodeId));
  const hereIds = new Set(here.map((n) => n.id));
  const ready = (e: ClusterEndpoint) => e.ready !== false;
  const backends = (serviceId: string, networkId: string) =>
    view.endpoints
      .filter((e) => e.serviceId === serviceId && e.networkId === networkId && ready(e))
      .map((e) => e.ip)
      .sort();

  const state: OverlayState = { networks: [], endpoints: [], services: [], ingressPorts: [] };
  for (const net of here) {
    const peers = [...nodesOf(net)].filter((n) => n !== nodeId).map((n) => addrOf.get(n)!);
    const remote = view.endpoints
      .filter((e) => e.networkId === net.id && e.nodeId !== nodeId && addrOf.has(e.nodeId))
      .map((e) => ({ ip: e.ip, ip6: e.ip6, mac: e.mac, vtep: addrOf.get(e.nodeId)! }));
    for (const [n, ip] of Object.entries(net.nodeAddresses ?? {})) if (n !== nodeId && addrOf.has(n)) remote.push({ ip, ip6: undefined, mac: undefined, vtep: addrOf.get(n)! });
    state.networks.push({
      id: net.id,
      vni: net.vni,
      subnet: net.subnet,
      ...(net.subnet6 ? { subnet6: net.subnet6 } : {}),
      hostAddress: net.nodeAddresses?.[nodeId],
      ingress: net.ingress || undefined,
      peers: [...new Set(peers)].sort(),
      remoteEndpoints: remote.map((r) => ({ ip: r.ip, ...(r.ip6 ? { ip6: r.ip6 } : {}), ...(r.mac ? { mac: r.mac } : {}), vtep: r.vtep })),
    });
  }
  for (const e of view.endpoints) {
    if (e.nodeId !== nodeId || !e.netns || !hereIds.has(e.networkId)) continue;
    state.endpoints.push({ id: e.id, networkId: e.networkId, netns: e.netns, ip: e.ip, ...(e.ip6 ? { ip6: e.ip6 } : {}), ...(e.mac ? { mac: e.mac } : {}) });
  }
  const ingress = here.find((n) => n.ingress);
  for (const svc of view.services) {
    if (svc.endpointMode !== 'dnsrr') {
      for (const [networkId, vip] of Object.entries(svc.vips ?? {})) {
        if (hereIds.has(networkId)) state.services.push({ networkId, id: svc.id, vip, backends: backends(svc.id, networkId) });
      }
    }
    if (ingress) {
      for (const p of svc.ports ?? []) {
        const port: IngressPort = { protocol: p.protocol, publishedPort: p.publishedPort, targetPort: p.targetPort, backends: backends(svc.id, ingress.id) };
        state.ingressPorts.push(port);
      }
    }
  }
  return state;
}
