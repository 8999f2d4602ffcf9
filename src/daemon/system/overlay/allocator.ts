/**
 * Cluster-wide address management for overlay networks: VNIs, one subnet per
 * network, IP leases inside it (tasks, attachable containers, each node's
 * ingress address) and service VIPs. Pure: no I/O, the whole state is one
 * JSON-serialisable object, so the swarm control plane keeps it in etcd and
 * applies an operation inside a transaction (load, mutate, compare-and-put).
 *
 * Numbers follow docker swarm: VNIs from 4096, the default address pool
 * 10.0.0.0/8 carved into /24s, network address, broadcast and gateway never
 * leased, and addresses handed out in order after the last one (a released
 * address is not reused at once, so stale ARP/fdb entries elsewhere do no harm).
 */
import { randomBytes } from 'node:crypto';
import {
  parseCidr, formatCidr, intToIp, ipToInt, contains, overlaps, within, type Cidr,
  parseCidr6, formatCidr6, contains6, overlaps6, ip6ToBig, bigToIp6, pickSubnet6, type Cidr6,
} from '../ipnet.js';

export interface NetworkAllocation {
  vni: number;
  subnet: string;
  gateway: string;
  /** ip → owner (e.g. `task:<id>`, `vip:<service>`, `node:<id>`). */
  leases: Record<string, string>;
  /** Last leased address (as a number), where the next search starts. */
  last: number;
  /** Dual stack (`network create --ipv6`): the IPv6 subnet, its gateway (never leased) and leases, as for IPv4. */
  subnet6?: string;
  gateway6?: string;
  leases6?: Record<string, string>;
  /** Last leased IPv6 address (a decimal bigint: JSON has no 128-bit numbers). */
  last6?: string;
}

export interface AllocatorState {
  networks: Record<string, NetworkAllocation>;
}

export interface AllocatorOptions {
  /** Inclusive VNI range (docker swarm: 4096 … 2^24-1). */
  vniMin?: number;
  vniMax?: number;
  /** Pools subnets are carved from when a network names none (docker: 10.0.0.0/8). */
  defaultPools?: string[];
  /** Prefix length of carved subnets (docker: 24). */
  subnetSize?: number;
}

export class AllocationError extends Error {}

export function emptyState(): AllocatorState {
  return { networks: {} };
}

export class OverlayAllocator {
  readonly state: AllocatorState;
  private readonly vniMin: number;
  private readonly vniMax: number;
  private readonly pools: Cidr[];
  private readonly subnetSize: number;

  constructor(state: AllocatorState = emptyState(), opts: AllocatorOptions = {}) {
    // A copy: a failed operation must leave the caller's state as it was.
    this.state = structuredClone(state);
    this.vniMin = opts.vniMin ?? 4096;
    this.vniMax = opts.vniMax ?? 0xffffff;
    if (this.vniMin < 1 || this.vniMax > 0xffffff || this.vniMin > this.vniMax) throw new AllocationError(`invalid VNI range ${this.vniMin}-${this.vniMax}`);
    this.pools = (opts.defaultPools ?? ['10.0.0.0/8']).map(parseCidr);
    this.subnetSize = opts.subnetSize ?? 24;
    if (this.pools.some((p) => p.prefix > this.subnetSize) || this.subnetSize > 30) throw new AllocationError(`invalid default address pool size ${this.subnetSize}`);
  }

  toJSON(): AllocatorState {
    return structuredClone(this.state);
  }

  network(id: string): NetworkAllocation | undefined {
    return this.state.networks[id];
  }

  /**
   * Gives a network its VNI and subnet. Idempotent for a network that has them
   * (the same allocation comes back). `subnet`/`gateway` as the user asked
   * (`network create --subnet --gateway`), else the first free /24 of the pools.
   */
  allocateNetwork(id: string, req: { subnet?: string; gateway?: string; vni?: number; ipv6?: boolean; subnet6?: string; gateway6?: string } = {}): NetworkAllocation {
    const have = this.state.networks[id];
    if (have) return structuredClone(have);
    const vni = req.vni ?? this.freeVni();
    if (req.vni !== undefined) {
      if (!Number.isInteger(vni) || vni < 1 || vni > 0xffffff) throw new AllocationError(`invalid VNI ${vni}`);
      if (Object.values(this.state.networks).some((n) => n.vni === vni)) throw new AllocationError(`VNI ${vni} is already in use`);
    }
    let subnet: Cidr;
    if (req.subnet) {
      subnet = parseCidr(req.subnet);
      if (subnet.prefix > 30) throw new AllocationError(`invalid subnet ${req.subnet}: too small for an overlay network`);
      if (this.subnets().some((s) => overlaps(s, subnet))) throw new AllocationError('invalid pool request: Pool overlaps with other one on this address space');
    } else {
      subnet = this.freeSubnet();
    }
    const gateway = req.gateway ?? intToIp(subnet.base + 1);
    if (!contains(subnet, gateway) || ipToInt(gateway) === subnet.base || ipToInt(gateway) === broadcast(subnet))
      throw new AllocationError(`no matching subnet for gateway ${gateway}`);
    const alloc: NetworkAllocation = { vni, subnet: formatCidr(subnet), gateway, leases: {}, last: ipToInt(gateway) };
    if (req.ipv6 || req.subnet6) Object.assign(alloc, this.allocateSubnet6(req.subnet6, req.gateway6));
    this.state.networks[id] = alloc;
    return structuredClone(alloc);
  }

  releaseNetwork(id: string): void {
    delete this.state.networks[id];
  }

  /**
   * Leases an address on a network to `owner`: the one asked for (`--ip`) if
   * free, else the next free one after the last lease. The same owner asking
   * again gets its existing lease back.
   */
  allocateIp(networkId: string, owner: string, want?: string): string {
    const n = this.mustNetwork(networkId);
    const subnet = parseCidr(n.subnet);
    const held = Object.entries(n.leases).find(([, o]) => o === owner);
    if (held && (!want || held[0] === want)) return held[0];
    if (want) {
      if (!contains(subnet, want)) throw new AllocationError(`invalid address ${want}: it does not belong to the network's subnet ${n.subnet}`);
      if (this.reserved(n, subnet, ipToInt(want))) throw new AllocationError(`Address already in use`);
      n.leases[want] = owner;
      return want;
    }
    const first = subnet.base + 1;
    const lastHost = broadcast(subnet) - 1;
    const span = lastHost - first + 1;
    for (let i = 1; i <= span; i++) {
      const cand = first + ((n.last - first + i + span) % span);
      if (!this.reserved(n, subnet, cand)) {
        const ip = intToIp(cand);
        n.leases[ip] = owner;
        n.last = cand;
        return ip;
      }
    }
    throw new AllocationError(`no available addresses on this pool (network ${networkId}, ${n.subnet})`);
  }

  /**
   * An IPv6 address on a dual-stack network for `owner` (the same owner gets
   * its lease back): the one asked for (`--ip6`) if free, else the next free
   * one after the last lease; undefined on an IPv4-only network.
   */
  allocateIp6(networkId: string, owner: string, want?: string): string | undefined {
    const n = this.mustNetwork(networkId);
    if (!n.subnet6) return undefined;
    const leases = (n.leases6 ??= {});
    const held = Object.entries(leases).find(([, o]) => o === owner);
    const subnet = parseCidr6(n.subnet6);
    if (want) {
      // One spelling of the address, as the leases keep it.
      const w = bigToIp6(ip6ToBig(want));
      if (held && held[0] === w) return w;
      if (!contains6(subnet, w)) throw new AllocationError(`invalid address ${want}: it does not belong to the network's subnet ${n.subnet6}`);
      if (ip6ToBig(w) === subnet.base || w === n.gateway6 || leases[w] !== undefined) throw new AllocationError(`Address already in use`);
      leases[w] = owner;
      return w;
    }
    if (held) return held[0];
    const size = 1n << BigInt(128 - subnet.prefix);
    // The subnet-router anycast address (base) is never leased; the search is bounded (a /64 is never full here).
    const span = size - 1n;
    let cur = BigInt(n.last6 ?? String(ip6ToBig(n.gateway6!)));
    for (let i = 0; i < 1_000_000 && BigInt(i) < span; i++) {
      cur = cur + 1n >= subnet.base + size ? subnet.base + 1n : cur + 1n;
      const ip = bigToIp6(cur);
      if (ip === n.gateway6 || leases[ip] !== undefined) continue;
      leases[ip] = owner;
      n.last6 = String(cur);
      return ip;
    }
    throw new AllocationError(`no available addresses on this pool (network ${networkId}, ${n.subnet6})`);
  }

  releaseIp(networkId: string, ip: string): void {
    const n = this.state.networks[networkId];
    if (!n) return;
    delete n.leases[ip];
    if (n.leases6) delete n.leases6[ip];
  }

  /** Releases every lease of `owner` on every network (a task or service gone). */
  releaseOwner(owner: string): void {
    for (const n of Object.values(this.state.networks)) {
      for (const [ip, o] of Object.entries(n.leases)) if (o === owner) delete n.leases[ip];
      for (const [ip, o] of Object.entries(n.leases6 ?? {})) if (o === owner) delete n.leases6![ip];
    }
  }

  /** A service's virtual IP on a network (lease owner `vip:<service>`). */
  allocateVip(networkId: string, serviceId: string, want?: string): string {
    return this.allocateIp(networkId, `vip:${serviceId}`, want);
  }

  releaseVip(networkId: string, serviceId: string): void {
    const n = this.state.networks[networkId];
    if (!n) return;
    for (const [ip, o] of Object.entries(n.leases)) if (o === `vip:${serviceId}`) delete n.leases[ip];
  }

  private reserved(n: NetworkAllocation, subnet: Cidr, ip: number): boolean {
    return ip === subnet.base || ip === broadcast(subnet) || intToIp(ip) === n.gateway || n.leases[intToIp(ip)] !== undefined;
  }

  private mustNetwork(id: string): NetworkAllocation {
    const n = this.state.networks[id];
    if (!n) throw new AllocationError(`network ${id} not found`);
    return n;
  }

  /** A network's IPv6 subnet: the one asked for (no overlap with another network's), else a random unique-local /64. */
  private allocateSubnet6(want?: string, gateway?: string): Pick<NetworkAllocation, 'subnet6' | 'gateway6' | 'leases6' | 'last6'> {
    const used = Object.values(this.state.networks).filter((n) => n.subnet6).map((n) => parseCidr6(n.subnet6!));
    let subnet: Cidr6;
    if (want) {
      try {
        subnet = parseCidr6(want);
      } catch (e) {
        throw new AllocationError((e as Error).message);
      }
      if (subnet.prefix > 126) throw new AllocationError(`invalid subnet ${want}: too small for an overlay network`);
      if (used.some((u) => overlaps6(u, subnet))) throw new AllocationError('invalid pool request: Pool overlaps with other one on this address space');
    } else {
      const picked = pickSubnet6(used, () => BigInt(`0x${randomBytes(8).toString('hex')}`));
      if (!picked) throw new AllocationError('could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network');
      subnet = picked;
    }
    const gw = gateway ?? bigToIp6(subnet.base + 1n);
    if (!contains6(subnet, gw) || ip6ToBig(gw) === subnet.base) throw new AllocationError(`no matching subnet for gateway ${gw}`);
    const gw6 = bigToIp6(ip6ToBig(gw));
    return { subnet6: formatCidr6(subnet), gateway6: gw6, leases6: {}, last6: String(ip6ToBig(gw6)) };
  }

  private subnets(): Cidr[] {
    return Object.values(this.state.networks).map((n) => parseCidr(n.subnet));
  }

  private freeVni(): number {
    const used = new Set(Object.values(this.state.networks).map((n) => n.vni));
    for (let v = this.vniMin; v <= this.vniMax; v++) if (!used.has(v)) return v;
    throw new AllocationError('no free VXLAN network identifier');
  }

  private freeSubnet(): Cidr {
    const used = this.subnets();
    for (const pool of this.pools) {
      const step = 2 ** (32 - this.subnetSize);
      const count = 2 ** (this.subnetSize - pool.prefix);
      for (let i = 0; i < count; i++) {
        const cand: Cidr = { base: (pool.base + i * step) >>> 0, prefix: this.subnetSize };
        if (!within(cand, pool)) break;
        if (!used.some((u) => overlaps(u, cand))) return cand;
      }
    }
    throw new AllocationError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  }
}

function broadcast(c: Cidr): number {
  return (c.base + 2 ** (32 - c.prefix) - 1) >>> 0;
}

/**
 * The MAC docker derives from an IPv4 address (02:42 + the four octets), so
 * the control plane stores only IPs and every node computes the same MACs.
 */
export function macFromIp(ip: string): string {
  const n = ipToInt(ip);
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
