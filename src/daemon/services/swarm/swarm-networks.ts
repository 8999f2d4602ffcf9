// `/networks` for swarm-scoped (overlay) networks: created, listed and removed
// on managers through the cluster store; a worker lists the ones it has a
// task on (as dockerd does), from what its managers last told it.
import { ApiError, badRequest } from '../../errors.js';
import { macFromIp } from '../../system/overlay/allocator.js';
import { espUnsupported } from '../../system/overlay/ipsec.js';
import { isCidr6 } from '../../system/ipnet.js';
import type { ClusterService } from './cluster-service.js';
import { overlayEndpointId } from './container-networks.js';
import { createNetwork, findNetwork, listNetworks, removeNetwork, type OverlayReply, type SwarmNetwork } from './overlay-store.js';
import type { Obj } from './model.js';

const errWorker = () => new ApiError(403, 'Cannot create a multi-host network from a worker node. Please create the network from a manager node.');

export class SwarmNetworks {
  constructor(
    private cluster: ClusterService,
    /** The last cluster view this node's data plane received (workers list networks from it). */
    private lastReply: () => OverlayReply | undefined,
    /** The local container of a task's endpoint on a network (for `network inspect`'s Containers); undefined for a plain container that left it. */
    private containerOfTask: (taskId: string, networkId: string) => { id: string; name: string } | undefined = () => undefined,
    /** Attaches a plain container to an attachable swarm network (with the API's EndpointConfig); false when `ref` names none. */
    private attach: (ref: string, container: string, endpoint?: unknown) => Promise<boolean> = async () => false,
    /** Detaches a plain container from a swarm network (its interface gone when this resolves); false when `ref` names none. */
    private detach: (ref: string, container: string) => Promise<boolean> = async () => false,
  ) {}

  async connect(ref: string, container: string, endpoint?: unknown): Promise<boolean> {
    return this.attach(ref, container, endpoint);
  }

  async disconnect(ref: string, container: string): Promise<boolean> {
    return this.detach(ref, container);
  }

  async create(body: Obj): Promise<{ Id: string; Warning: string }> {
    if (!this.cluster.nodeId) throw this.notManager();
    if (!this.cluster.isManager) throw errWorker();
    const { store } = this.cluster.manager();
    const name = String(body.Name ?? '');
    if (!name) throw badRequest('invalid name: network name must not be empty');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw badRequest(`invalid network name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (body.Options?.encrypted !== undefined) {
      // docker's nodes find out when a task joins the network; with no ESP in the kernel here, say so before anything is made.
      const why = await espUnsupported();
      if (why) throw badRequest(`cannot create encrypted network ${name}: required modules to install IPSEC rules are missing on host (the kernel has no IPsec ESP: ${why})`);
      throw badRequest('encrypted overlay networks (--opt encrypted) are not supported by berth yet');
    }
    const cfg = ((body.IPAM?.Config ?? []) as Obj[]).filter((c) => c.Subnet);
    const v4 = cfg.filter((c) => !isCidr6(String(c.Subnet)));
    const v6 = cfg.filter((c) => isCidr6(String(c.Subnet)));
    if (v4.length > 1 || v6.length > 1) throw badRequest('overlay networks take one subnet per address family in berth');
    if (body.EnableIPv4 === false) throw badRequest('IPv6-only networks (--ipv4=false) are not supported by berth yet: leave IPv4 on');
    if (v6.length && !body.EnableIPv6) throw badRequest(`invalid network config: IPv6 subnet ${v6[0]!.Subnet} needs IPv6 enabled on the network (--ipv6)`);
    const ingress = !!body.Ingress;
    const net = await createNetwork(store, {
      name, subnet: v4[0]?.Subnet, gateway: v4[0]?.Gateway || undefined, attachable: !!body.Attachable, internal: !!body.Internal, ingress,
      labels: body.Labels ?? {}, options: body.Options ?? {},
      ipv6: !!body.EnableIPv6, subnet6: v6[0]?.Subnet, gateway6: v6[0]?.Gateway || undefined,
    });
    return { Id: net.Id, Warning: '' };
  }

  private notManager(): ApiError {
    return new ApiError(503, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
  }

  /** The swarm networks this node shows: all of them on a manager; ingress and those with a local task on a worker. */
  async all(): Promise<SwarmNetwork[]> {
    if (!this.cluster.nodeId) return [];
    if (this.cluster.isManager) return listNetworks(this.cluster.manager().store);
    const r = this.lastReply();
    if (!r) return [];
    const self = this.cluster.nodeId;
    const here = new Set(r.view.endpoints.filter((e) => e.nodeId === self).map((e) => e.networkId));
    return r.networks.filter((n) => n.Ingress || here.has(n.Id));
  }

  async list(filters: Map<string, string[]>): Promise<SwarmNetwork[]> {
    const f = (k: string, test: (x: string) => boolean, n: SwarmNetwork) => !filters.has(k) || filters.get(k)!.some(test);
    return (await this.all()).filter(
      (n) =>
        f('name', (x) => n.Name.includes(x), n) &&
        f('id', (x) => n.Id.startsWith(x), n) &&
        f('driver', (x) => x === 'overlay', n) &&
        f('scope', (x) => x === 'swarm', n) &&
        f('type', (x) => x === 'custom', n) &&
        f('label', (x) => {
          const i = x.indexOf('=');
          return i < 0 ? n.Labels[x] !== undefined : n.Labels[x.slice(0, i)] === x.slice(i + 1);
        }, n),
    );
  }

  async find(ref: string): Promise<SwarmNetwork | undefined> {
    return findNetwork(await this.all(), ref);
  }

  /**
   * `network inspect` as dockerd answers it: the containers on this node with
   * an endpoint on the network and — when the network is up on this node —
   * the nodes it is up on (`Peers`, named `<hostname>-<node id>` the way
   * docker's gossip names them).
   */
  async inspect(ref: string): Promise<(SwarmNetwork & { Peers?: Array<{ Name: string; IP: string }> }) | undefined> {
    const n = await this.find(ref);
    const r = this.lastReply();
    const self = this.cluster.nodeId;
    if (!n || !r || !self) return n;
    const prefix = (n.IPAM.Config[0]?.Subnet ?? '/24').split('/')[1];
    const eps = r.view.endpoints.filter((e) => e.networkId === n.Id);
    const containers: Record<string, unknown> = {};
    for (const e of eps) {
      if (e.nodeId !== self) continue;
      const c = this.containerOfTask(e.id.split('/')[0]!, n.Id);
      if (!c) continue;
      const prefix6 = n.IPAM.Config.find((x) => isCidr6(x.Subnet))?.Subnet.split('/')[1];
      containers[c.id] = {
        Name: c.name, EndpointID: overlayEndpointId(n.Id, c.id), MacAddress: e.mac ?? macFromIp(e.ip), IPv4Address: `${e.ip}/${prefix}`, IPv6Address: e.ip6 && prefix6 ? `${e.ip6}/${prefix6}` : '',
      };
    }
    const on = new Set(eps.map((e) => e.nodeId));
    for (const id of Object.keys(r.view.networks.find((x) => x.id === n.Id)?.nodeAddresses ?? {})) on.add(id);
    if (!on.has(self)) return { ...n, Containers: containers };
    const peers = r.view.nodes.filter((x) => on.has(x.id)).map((x) => ({ Name: `${x.hostname || x.id}-${x.id.slice(0, 12)}`, IP: x.addr }));
    return { ...n, Containers: containers, Peers: peers.sort((a, b) => (a.Name < b.Name ? -1 : 1)) };
  }

  async remove(ref: string): Promise<boolean> {
    if (!this.cluster.nodeId) return false;
    const n = await this.find(ref);
    if (!n) return false;
    if (!this.cluster.isManager) throw new ApiError(403, `network ${n.Name} is a swarm network: remove it from a manager node`);
    await removeNetwork(this.cluster.manager().store, n);
    return true;
  }
}
