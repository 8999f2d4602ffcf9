// Overlay networks in the cluster store: the network objects (docker's
// Network shape, Scope "swarm") under networks/<id>, and the allocator state
// (VNIs, subnets, IP leases, VIPs) as one key changed only by compare-and-put,
// so two managers never hand out the same address. Also the cluster view a
// node's data plane is planned from (system/overlay/plan.ts).
import { ApiError } from '../../errors.js';
import type { ClusterStore } from '../../stores/cluster-store.js';
import { AllocationError, OverlayAllocator, emptyState, type AllocatorState } from '../../system/overlay/allocator.js';
import type { ClusterView } from '../../system/overlay/plan.js';
import { isTerminal, newId, now, type ClusterRecord, type NodeRecord, type Obj, type ServiceRecord, type TaskRecord } from './model.js';

const ALLOC_KEY = 'overlay/alloc';

export interface SwarmNetwork {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'swarm';
  Driver: 'overlay';
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: Array<{ Subnet: string; Gateway: string }> };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, unknown>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** What a node gets with each heartbeat: the view its data plane is planned from, and the objects DNS and `network ls` need. */
export interface OverlayReply {
  view: ClusterView;
  networks: SwarmNetwork[];
  /** service id → name, aliases by network and endpoint mode (embedded DNS). */
  services: Array<{ id: string; name: string; mode: 'vip' | 'dnsrr'; aliases: Record<string, string[]> }>;
  /** The swarm's VXLAN UDP port (`swarm init --data-path-port`); absent from managers before it was sent: 4789. */
  dataPathPort?: number;
  /** Plain containers the allocator could give no address (e.g. the `--ip` asked for is taken), with its error. */
  attachErrors?: Array<AttachFailure & { nodeId: string }>;
}

/** A plain container of a node on an attachable overlay network (`run --network`, `network connect`). */
export interface NodeAttachment {
  containerId: string;
  networkId: string;
  /** The container's name: it resolves to the container's address on the network. */
  name: string;
  /** The addresses asked for (`--ip`, `--ip6`); else the allocator picks. */
  wantIp?: string;
  wantIp6?: string;
  /** Network-scoped aliases (`--alias`, `--network-alias`): they resolve to the container's address too. */
  aliases?: string[];
}

/** `attachments/<node id>`: the node's attachments with the addresses the allocator gave them. */
interface AttachmentsRecord {
  nodeId: string;
  /** `ip6`: on a dual-stack network. */
  items: Array<NodeAttachment & { ip: string; ip6?: string }>;
  /** Attachments the allocator refused, tried again with every heartbeat. */
  failed?: AttachFailure[];
}

/** An attachment the allocator refused: what it asked for, and why. */
export interface AttachFailure {
  containerId: string;
  networkId: string;
  wantIp?: string;
  wantIp6?: string;
  error: string;
}

const attachmentOwner = (nodeId: string, a: { containerId: string; networkId: string }) => `att:${nodeId}/${a.containerId}/${a.networkId}`;

/**
 * Makes the node's attachments in the store what its heartbeat says they
 * are (level-triggered, as the agent reports them every time): new ones get
 * an address on their network (the one asked for, if free), gone ones give
 * theirs back. Networks that do not exist or are not attachable are left
 * out; an attachment the allocator refuses is kept with its error (in the
 * cluster view, so its node can tell the user) and tried again next time.
 */
export async function syncAttachments(store: ClusterStore, nodeId: string, want: NodeAttachment[]): Promise<void> {
  const key = `attachments/${nodeId}`;
  // What was asked is part of the key: another address or alias asked for is a new attachment.
  const k = (a: NodeAttachment) => JSON.stringify([a.containerId, a.networkId, a.wantIp ?? '', a.wantIp6 ?? '', a.aliases ?? []]);
  for (let i = 0; i < 20; i++) {
    const cur = await store.get<AttachmentsRecord>(key);
    const items = cur?.value.items ?? [];
    const wantKeys = new Set(want.map(k));
    const have = new Set(items.map(k));
    const gone = items.filter((a) => !wantKeys.has(k(a)));
    let added = want.filter((a) => !have.has(k(a)));
    if (!gone.length && !added.length && !cur?.value.failed?.length) return;
    if (added.length) {
      const nets = await listNetworks(store);
      added = added.filter((a) => nets.some((n) => n.Id === a.networkId && n.Attachable && !n.Ingress));
    }
    const results = await withAllocator(store, (al) => {
      for (const a of gone) al.releaseOwner(attachmentOwner(nodeId, a));
      return added
        .filter((a) => al.network(a.networkId))
        .map((a) => {
          const owner = attachmentOwner(nodeId, a);
          try {
            const ip = al.allocateIp(a.networkId, owner, a.wantIp);
            const ip6 = al.allocateIp6(a.networkId, owner, a.wantIp6);
            return { ok: { ...a, ip, ...(ip6 ? { ip6 } : {}) } };
          } catch (e) {
            if (!(e instanceof AllocationError)) throw e;
            al.releaseOwner(owner);
            const failed: AttachFailure = { containerId: a.containerId, networkId: a.networkId, ...(a.wantIp ? { wantIp: a.wantIp } : {}), ...(a.wantIp6 ? { wantIp6: a.wantIp6 } : {}), error: e.message };
            return { failed };
          }
        });
    });
    const failed = results.flatMap((r) => (r.failed ? [r.failed] : []));
    const next: AttachmentsRecord = {
      nodeId,
      items: [...items.filter((a) => wantKeys.has(k(a))), ...results.flatMap((r) => (r.ok ? [r.ok] : []))],
      ...(failed.length ? { failed } : {}),
    };
    if (cur && JSON.stringify(next) === JSON.stringify(cur.value)) return;
    if (cur ? await store.replace(key, next, cur.version) : await store.create(key, next)) return;
  }
  throw new Error(`attachments of node ${nodeId}: too many concurrent changes`);
}

/** Runs `fn` on the allocator inside a compare-and-put of its state; retried when another manager got in between. */
export async function withAllocator<T>(store: ClusterStore, fn: (a: OverlayAllocator) => T): Promise<T> {
  for (let i = 0; i < 20; i++) {
    const cur = await store.get<AllocatorState>(ALLOC_KEY);
    const cluster = await store.get<ClusterRecord>('cluster');
    const a = new OverlayAllocator(cur?.value ?? emptyState(), {
      defaultPools: cluster?.value.DefaultAddrPool?.length ? cluster.value.DefaultAddrPool : undefined,
      subnetSize: cluster?.value.SubnetSize || undefined,
    });
    const out = fn(a);
    if (JSON.stringify(a.state) === JSON.stringify(cur?.value ?? emptyState())) return out;
    const ok = cur ? await store.replace(ALLOC_KEY, a.toJSON(), cur.version) : await store.create(ALLOC_KEY, a.toJSON());
    if (ok) return out;
  }
  throw new Error('overlay address allocation: too many concurrent changes');
}

export async function listNetworks(store: ClusterStore): Promise<SwarmNetwork[]> {
  return (await store.list<SwarmNetwork>('networks/')).map((n) => n.value);
}

/** Finds a swarm network by full ID, name or unique ID prefix (docker's order); undefined when none. */
export function findNetwork(all: SwarmNetwork[], ref: string): SwarmNetwork | undefined {
  return all.find((n) => n.Id === ref) ?? all.find((n) => n.Name === ref) ?? (ref.length >= 1 ? onlyOne(all.filter((n) => n.Id.startsWith(ref))) : undefined);
}

function onlyOne<T>(xs: T[]): T | undefined {
  return xs.length === 1 ? xs[0] : undefined;
}

/** Allocates and stores a new overlay network (or the ingress network). */
export async function createNetwork(store: ClusterStore, req: {
  name: string; subnet?: string; gateway?: string; attachable?: boolean; internal?: boolean; ingress?: boolean; labels?: Record<string, string>; options?: Record<string, string>;
  /** Dual stack (`--ipv6`), with the IPv6 subnet asked for (else a random unique-local /64). */
  ipv6?: boolean; subnet6?: string; gateway6?: string;
}): Promise<SwarmNetwork> {
  const all = await listNetworks(store);
  if (all.some((n) => n.Name === req.name)) throw new ApiError(409, `network with name ${req.name} already exists`);
  if (req.ingress && all.some((n) => n.Ingress)) throw new ApiError(403, `ingress network already exists`);
  const id = newId();
  const alloc = await withAllocator(store, (a) => {
    try {
      return a.allocateNetwork(id, { subnet: req.subnet, gateway: req.gateway, ipv6: req.ipv6, subnet6: req.subnet6, gateway6: req.gateway6 });
    } catch (e) {
      throw new ApiError(400, (e as Error).message);
    }
  });
  const net: SwarmNetwork = {
    Name: req.name, Id: id, Created: now(), Scope: 'swarm', Driver: 'overlay', EnableIPv4: true, EnableIPv6: !!alloc.subnet6,
    IPAM: {
      Driver: 'default', Options: null,
      Config: [{ Subnet: alloc.subnet, Gateway: alloc.gateway }, ...(alloc.subnet6 ? [{ Subnet: alloc.subnet6, Gateway: alloc.gateway6! }] : [])],
    },
    Internal: !!req.internal, Attachable: !!req.attachable, Ingress: !!req.ingress, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {},
    Options: { ...(req.options ?? {}), 'com.docker.network.driver.overlay.vxlanid_list': String(alloc.vni) },
    Labels: req.labels ?? {},
  };
  if (!(await store.create(`networks/${id}`, net))) throw new Error(`network ${id} exists`);
  return net;
}

/** docker's ingress network, made with the swarm (10.0.0.0/24 unless the pool says otherwise). */
export async function ensureIngress(store: ClusterStore): Promise<void> {
  if ((await listNetworks(store)).some((n) => n.Ingress)) return;
  const cluster = await store.get<ClusterRecord>('cluster');
  const pools = cluster?.value.DefaultAddrPool ?? [];
  const subnet = !pools.length || (pools.length === 1 && pools[0] === '10.0.0.0/8') ? '10.0.0.0/24' : undefined;
  await createNetwork(store, { name: 'ingress', subnet, ingress: true });
}

export async function removeNetwork(store: ClusterStore, net: SwarmNetwork): Promise<void> {
  for (const s of await store.list<ServiceRecord>('services/')) {
    const ids = serviceNetworkIds(s.value, [net]);
    if (ids.includes(net.Id) && !net.Ingress) throw new ApiError(400, `rpc error: code = FailedPrecondition desc = network ${net.Id} is in use by service ${s.value.ID}`);
    if (net.Ingress && ingressPorts(s.value).length) throw new ApiError(403, `rpc error: code = PermissionDenied desc = ingress network cannot be removed because service ${s.value.ID} depends on it`);
  }
  await store.delete(`networks/${net.Id}`);
  await withAllocator(store, (a) => a.releaseNetwork(net.Id));
}

/** The service's published ports in ingress mode (the routing mesh). */
export function ingressPorts(s: ServiceRecord | { Spec: Obj }): Obj[] {
  return ((s.Spec.EndpointSpec?.Ports ?? []) as Obj[]).filter((p) => (p.PublishMode ?? 'ingress') === 'ingress' && p.PublishedPort);
}

/** The swarm networks a service is on: its attachments that name one, and ingress when it publishes in ingress mode. */
export function serviceNetworkIds(s: { Spec: Obj }, nets: SwarmNetwork[]): string[] {
  const out: string[] = [];
  for (const a of ((s.Spec.TaskTemplate?.Networks ?? s.Spec.Networks ?? []) as Obj[])) {
    const n = findNetwork(nets, String(a.Target ?? ''));
    if (n && !out.includes(n.Id)) out.push(n.Id);
  }
  const ingress = nets.find((n) => n.Ingress);
  if (ingress && ingressPorts(s).length && !out.includes(ingress.Id)) out.push(ingress.Id);
  return out;
}

/**
 * Network targets given by name become IDs (as swarmkit stores them), so a
 * task's spec stays the same if the network is renamed or shadowed. Names of
 * non-swarm networks (host, bridge) are left as given.
 */
export async function resolveServiceNetworks(store: ClusterStore, spec: Obj): Promise<void> {
  const atts = (spec.TaskTemplate?.Networks ?? []) as Obj[];
  if (!atts.length) return;
  const nets = await listNetworks(store);
  for (const a of atts) {
    const n = findNetwork(nets, String(a.Target ?? ''));
    if (n) {
      if (n.Ingress) throw new ApiError(400, `rpc error: code = InvalidArgument desc = Service cannot be explicitly attached to the ingress network "${n.Name}"`);
      a.Target = n.Id;
    }
  }
}

/** VIPs of a service in vip mode on each of its networks, allocated (idempotently) in the store. */
export async function serviceVips(store: ClusterStore, s: { ID: string; Spec: Obj }): Promise<Obj[]> {
  const nets = await listNetworks(store);
  const ids = serviceNetworkIds(s, nets);
  const vip = (s.Spec.EndpointSpec?.Mode ?? 'vip') === 'vip';
  return withAllocator(store, (a) => {
    for (const n of nets) if (!ids.includes(n.Id) || !vip) a.releaseVip(n.Id, s.ID);
    if (!vip) return [];
    return ids.filter((id) => a.network(id)).map((id) => ({ NetworkID: id, Addr: `${a.allocateVip(id, s.ID)}/${a.network(id)!.subnet.split('/')[1]}` }));
  });
}

export async function releaseService(store: ClusterStore, serviceId: string): Promise<void> {
  await withAllocator(store, (a) => a.releaseOwner(`vip:${serviceId}`));
}

/** A new task's address on each network of its service (swarmkit's NetworksAttachments). */
export async function taskAttachments(store: ClusterStore, svc: ServiceRecord, taskId: string): Promise<Obj[]> {
  const nets = await listNetworks(store);
  const ids = serviceNetworkIds(svc, nets);
  if (!ids.length) return [];
  const aliasesOf = (id: string) => ((svc.Spec.TaskTemplate?.Networks ?? []) as Obj[]).find((a) => a.Target === id)?.Aliases ?? [];
  return withAllocator(store, (a) =>
    ids
      .filter((id) => a.network(id))
      .map((id) => {
        const n = nets.find((x) => x.Id === id)!;
        const net = a.network(id)!;
        const ip6 = a.allocateIp6(id, `task:${taskId}`);
        const addresses = [`${a.allocateIp(id, `task:${taskId}`)}/${net.subnet.split('/')[1]}`, ...(ip6 ? [`${ip6}/${net.subnet6!.split('/')[1]}`] : [])];
        return { Network: { ID: id, Spec: { Name: n.Name, Labels: n.Labels, ...(n.Ingress ? { Ingress: true } : {}) } }, Addresses: addresses, Aliases: aliasesOf(id) };
      }),
  );
}

/**
 * The leader's sweep: every node gets its address on the ingress network,
 * and leases of tasks that ended or are gone and of removed nodes go back to
 * the pool. (VIPs are released with their service: a manager may be
 * allocating one for a service this sweep does not know yet.)
 */
export async function sweepLeases(store: ClusterStore, nodes: NodeRecord[], tasks: TaskRecord[]): Promise<void> {
  const nets = await listNetworks(store);
  const ingress = nets.find((n) => n.Ingress);
  const liveTasks = new Set(tasks.filter((t) => !isTerminal(t.Status.State)).map((t) => `task:${t.ID}`));
  const nodeIds = new Set(nodes.filter((n) => !n.Berth.left).map((n) => `node:${n.ID}`));
  await withAllocator(store, (a) => {
    for (const id of Object.keys(a.state.networks)) {
      if (!nets.some((n) => n.Id === id)) continue;
      const n = a.state.networks[id]!;
      for (const [ip, owner] of [...Object.entries(n.leases), ...Object.entries(n.leases6 ?? {})]) {
        const gone =
          (owner.startsWith('task:') && !liveTasks.has(owner)) ||
          (owner.startsWith('node:') && !nodeIds.has(owner)) ||
          (owner.startsWith('att:') && !nodeIds.has(`node:${owner.slice(4).split('/')[0]}`));
        if (gone) a.releaseIp(id, ip);
      }
    }
    if (ingress && a.network(ingress.Id)) for (const n of nodeIds) a.allocateIp(ingress.Id, n);
  });
}

/** The whole cluster as the data planes see it. */
export async function overlayReply(store: ClusterStore): Promise<OverlayReply> {
  const [nodes, nets, tasks, services, alloc, attachments, cluster] = await Promise.all([
    store.list<NodeRecord>('nodes/'),
    listNetworks(store),
    store.list<TaskRecord>('tasks/'),
    store.list<ServiceRecord>('services/'),
    store.get<AllocatorState>(ALLOC_KEY),
    store.list<AttachmentsRecord>('attachments/'),
    store.get<ClusterRecord>('cluster'),
  ]);
  const state = alloc?.value ?? emptyState();
  const view: ClusterView = { nodes: [], networks: [], endpoints: [], services: [] };
  for (const n of nodes) if (!n.value.Berth.left) view.nodes.push({ id: n.value.ID, addr: n.value.Berth.addr, hostname: n.value.Description?.Hostname ?? '' });
  for (const n of nets) {
    const a = state.networks[n.Id];
    if (!a) continue;
    const nodeAddresses: Record<string, string> = {};
    if (n.Ingress) for (const [ip, owner] of Object.entries(a.leases)) if (owner.startsWith('node:')) nodeAddresses[owner.slice(5)] = ip;
    view.networks.push({ id: n.Id, vni: a.vni, subnet: a.subnet, ...(a.subnet6 ? { subnet6: a.subnet6 } : {}), ...(n.Ingress ? { ingress: true, nodeAddresses } : {}) });
  }
  for (const { value: t } of tasks) {
    if (!t.NodeID || isTerminal(t.Status.State)) continue;
    for (const att of (t.NetworksAttachments ?? []) as Obj[]) {
      const ip = String(att.Addresses?.[0] ?? '').split('/')[0]!;
      if (!ip) continue;
      const ip6 = ((att.Addresses ?? []) as string[]).map((x) => x.split('/')[0]!).find((x) => x.includes(':'));
      // Endpoint id `<task>/<network>`: the task's node finds its container (and namespace) by the task id.
      view.endpoints.push({
        id: `${t.ID}/${att.Network.ID}`, networkId: att.Network.ID, nodeId: t.NodeID, ip, ...(ip6 ? { ip6 } : {}), serviceId: t.ServiceID, ready: t.Status.State === 'running' && t.DesiredState === 'running' && !t.Status.Unhealthy,
        name: `${t.ServiceName}.${t.Slot ?? t.NodeID}.${t.ID}`,
      });
    }
  }
  // Plain containers' endpoints: `ctr:<container id>/<network>`, so the node finds the container by its id.
  const attachErrors: NonNullable<OverlayReply['attachErrors']> = [];
  for (const { value: r } of attachments) {
    for (const a of r.items) {
      view.endpoints.push({
        id: `ctr:${a.containerId}/${a.networkId}`, networkId: a.networkId, nodeId: r.nodeId, ip: a.ip, ...(a.ip6 ? { ip6: a.ip6 } : {}), name: a.name, ready: true,
        ...(a.aliases?.length ? { aliases: a.aliases } : {}),
      });
    }
    for (const f of r.failed ?? []) attachErrors.push({ nodeId: r.nodeId, ...f });
  }
  const out: OverlayReply['services'] = [];
  for (const { value: s } of services) {
    const mode = s.Spec.EndpointSpec?.Mode === 'dnsrr' ? 'dnsrr' : 'vip';
    const vips: Record<string, string> = {};
    for (const v of (s.Endpoint?.VirtualIPs ?? []) as Obj[]) vips[v.NetworkID] = String(v.Addr).split('/')[0]!;
    const ports = ingressPorts(s).map((p) => ({ protocol: (p.Protocol ?? 'tcp') as 'tcp' | 'udp', publishedPort: Number(p.PublishedPort), targetPort: Number(p.TargetPort) }));
    view.services.push({ id: s.ID, endpointMode: mode, vips, ports });
    const aliases: Record<string, string[]> = {};
    for (const a of (s.Spec.TaskTemplate?.Networks ?? []) as Obj[]) aliases[String(a.Target)] = (a.Aliases ?? []) as string[];
    out.push({ id: s.ID, name: s.Spec.Name, mode, aliases });
  }
  return { view, networks: nets, services: out, dataPathPort: cluster?.value.DataPathPort || 4789, ...(attachErrors.length ? { attachErrors } : {}) };
}
