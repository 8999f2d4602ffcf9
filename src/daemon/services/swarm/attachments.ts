// Plain containers on attachable overlay networks (docker's `run --network
// <overlay>` and `network connect <overlay>` on a swarm node). The node keeps
// which of its containers want which swarm networks — `run --network` as a
// label on the container, `network connect` in a small file — and reports
// the running ones with every heartbeat; the managers give each an address
// on the network (the one `--ip` asked for, checked here first against the
// network's subnet and the addresses the cluster view shows in use) and put
// it, with its `--alias`es, in the cluster view, from which the node's
// overlay agent plugs it in like a task's endpoint. The container keeps the
// default bridge as eth0 for outbound traffic, as a task does (docker's
// docker_gwbridge).
import fs from 'node:fs';
import path from 'node:path';
import { isIPv4, isIPv6 } from 'node:net';
import { ApiError } from '../../errors.js';
import { contains, contains6, ip6ToBig, parseCidr, parseCidr6 } from '../../system/ipnet.js';
import { findNetwork, type NodeAttachment, type OverlayReply, type SwarmNetwork } from './overlay-store.js';
import type { Obj } from './model.js';

/** The label `run --network <overlay>` leaves on the container: the swarm network IDs, comma-separated. */
export const ATTACH_LABEL = 'com.docker.swarm.network.attach';
/** And, when `--ip`, `--ip6` or `--network-alias` were given, what they asked for: JSON, by network ID. */
export const ATTACH_CONFIG_LABEL = 'com.docker.swarm.network.attach.config';

/** What a container asks for on a swarm network (the API's EndpointSettings: IPAMConfig, Aliases). */
export interface EndpointRequest {
  ip?: string;
  ip6?: string;
  aliases?: string[];
}

export interface AttachableContainer {
  id: string;
  name: string;
  running: boolean;
  labels: Record<string, string>;
}

export interface SwarmAttachmentsDeps {
  /** Where `network connect`'s attachments are kept (survives a restart). */
  file: string;
  /** Every swarm network this node knows of (a manager: the store's; a worker: the last cluster view's); empty when not in a swarm. */
  networks: () => Promise<SwarmNetwork[]>;
  /** Whether `ref` names a local (non-swarm) network, which wins over a swarm one. */
  isLocalNetwork: (ref: string) => boolean;
  containers: () => AttachableContainer[];
  /** A container's full ID from a name, ID or prefix (throws docker's not-found error). */
  containerId: (ref: string) => string;
  /** The cluster view the node last received: the addresses in use on each network. */
  view?: () => OverlayReply | undefined;
}

/**
 * What the file keeps: per container, the networks `network connect` added and those `network disconnect`
 * took from its label, and what `network connect` asked for on each network (it wins over the label's).
 */
interface Saved {
  connected: Record<string, string[]>;
  disconnected: Record<string, string[]>;
  endpoints?: Record<string, Record<string, EndpointRequest>>;
}

export class SwarmAttachments {
  private saved: Saved;

  constructor(private d: SwarmAttachmentsDeps) {
    try {
      const raw = JSON.parse(fs.readFileSync(d.file, 'utf8')) as Record<string, unknown>;
      // The first version of the file was the connected map alone (keyed by container IDs).
      this.saved = Array.isArray(Object.values(raw)[0]) || !Object.keys(raw).length
        ? { connected: raw as Record<string, string[]>, disconnected: {} }
        : { connected: {}, disconnected: {}, ...(raw as Partial<Saved>) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.saved = { connected: {}, disconnected: {} };
    }
  }

  /** The swarm network `ref` names, checked as swarmkit checks a node's attach request. */
  private async attachable(ref: string): Promise<SwarmNetwork | undefined> {
    if (this.d.isLocalNetwork(ref)) return undefined;
    const n = findNetwork(await this.d.networks(), ref);
    if (!n) return undefined;
    if (!n.Attachable || n.Ingress) throw new ApiError(403, `Could not attach to network ${ref}: rpc error: code = PermissionDenied desc = network ${ref} not manually attachable`);
    return n;
  }

  /**
   * A container create naming a swarm network (HostConfig.NetworkMode): the
   * container goes on the default bridge and carries the network in a label.
   * Other bodies pass unchanged.
   */
  async prepareCreate(body: unknown): Promise<unknown> {
    const b = body as Obj | null;
    const mode = b?.HostConfig?.NetworkMode;
    if (typeof mode !== 'string' || !mode || ['default', 'bridge', 'host', 'none'].includes(mode) || mode.startsWith('container:')) return body;
    const n = await this.attachable(mode);
    if (!n) return body;
    const eps = { ...(b!.NetworkingConfig?.EndpointsConfig ?? {}) } as Obj;
    const req = this.request(n, eps[mode], undefined);
    delete eps[mode];
    return {
      ...b,
      Labels: { ...(b!.Labels ?? {}), [ATTACH_LABEL]: n.Id, ...(Object.keys(req).length ? { [ATTACH_CONFIG_LABEL]: JSON.stringify({ [n.Id]: req }) } : {}) },
      HostConfig: { ...b!.HostConfig, NetworkMode: 'bridge' },
      NetworkingConfig: { ...(b!.NetworkingConfig ?? {}), EndpointsConfig: eps },
    };
  }

  /**
   * `network connect` of a swarm network, with what the EndpointConfig asks
   * for (`--ip`, `--ip6`, `--alias`): the container and network IDs;
   * undefined when `ref` names none (the caller's not-found stands).
   */
  async connect(ref: string, containerRef: string, endpoint?: unknown): Promise<{ containerId: string; networkId: string; running: boolean; undo: () => void } | undefined> {
    const n = await this.attachable(ref);
    if (!n) return undefined;
    const id = this.d.containerId(containerRef);
    const c = this.d.containers().find((x) => x.id === id);
    if (c && this.networksOf(c).includes(n.Id)) {
      throw new ApiError(403, `endpoint with name ${c.name} already exists in network ${n.Name}`);
    }
    const req = this.request(n, endpoint, id);
    const fromLabel = !!c && labelNetworks(c).includes(n.Id);
    const before = this.saved;
    this.save({
      connected: fromLabel ? this.saved.connected : { ...this.saved.connected, [id]: [...(this.saved.connected[id] ?? []), n.Id] },
      disconnected: without(this.saved.disconnected, id, n.Id),
      endpoints: { ...(this.saved.endpoints ?? {}), [id]: { ...(this.saved.endpoints?.[id] ?? {}), [n.Id]: req } },
    });
    // A connect the managers refuse is undone (the container as it was), as dockerd leaves nothing of a failed one.
    return { containerId: id, networkId: n.Id, running: !!c?.running, undo: () => this.save(before) };
  }

  /**
   * What an EndpointSettings asks for on swarm network `n`, checked as
   * dockerd checks it (validateEndpointSettings) and against the addresses
   * the cluster view shows in use there (but `self`'s own); the allocator on
   * the managers has the last word.
   */
  private request(n: SwarmNetwork, ep: unknown, self: string | undefined): EndpointRequest {
    const e = (ep ?? {}) as Obj;
    const ip: string = e.IPAMConfig?.IPv4Address || '';
    const ip6: string = e.IPAMConfig?.IPv6Address || '';
    const aliases = ((e.Aliases ?? []) as unknown[]).map(String).filter(Boolean);
    const v4 = n.IPAM.Config.filter((p) => !p.Subnet.includes(':'));
    const v6 = n.IPAM.Config.filter((p) => p.Subnet.includes(':'));
    if (ip) {
      if (!isIPv4(ip)) throw new ApiError(400, `invalid IPv4 address: ${ip}`);
      if (!v4.some((p) => contains(parseCidr(p.Subnet), ip))) throw new ApiError(400, `no configured subnet or ip-range contain the IP address ${ip}`);
    }
    if (ip6) {
      if (!isIPv6(ip6)) throw new ApiError(400, `invalid IPv6 address: ${ip6}`);
      if (!v6.some((p) => contains6(parseCidr6(p.Subnet), ip6))) throw new ApiError(400, `no configured subnet or ip-range contain the IP address ${ip6}`);
    }
    const r = this.d.view?.();
    const mine = (id: string) => !!self && id === `ctr:${self}/${n.Id}`;
    const used = new Set<string>(n.IPAM.Config.map((p) => p.Gateway).filter(Boolean));
    for (const x of r?.view.endpoints ?? []) {
      if (x.networkId !== n.Id || mine(x.id)) continue;
      used.add(x.ip);
      if (x.ip6) used.add(x.ip6);
    }
    for (const s of r?.view.services ?? []) if (s.vips?.[n.Id]) used.add(s.vips[n.Id]!);
    const taken = (a: string) => [...used].some((u) => u === a || (a.includes(':') && u.includes(':') && ip6ToBig(u) === ip6ToBig(a)));
    if ((ip && taken(ip)) || (ip6 && taken(ip6))) throw new ApiError(400, 'Address already in use');
    return { ...(ip ? { ip } : {}), ...(ip6 ? { ip6 } : {}), ...(aliases.length ? { aliases } : {}) };
  }

  /**
   * After `network connect` of a running container: true once its interface
   * is up, false if not within `timeoutMs`; the managers' refusal (e.g. the
   * `--ip` was taken meanwhile) is thrown, the connect undone.
   */
  async settle(
    att: { containerId: string; networkId: string; undo: () => void },
    interfaceUp: (endpointId: string, timeoutMs: number) => Promise<boolean>,
    timeoutMs: number,
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await interfaceUp(`ctr:${att.containerId}/${att.networkId}`, 250)) return true;
      const err = this.refusal(att.containerId, att.networkId);
      if (err) {
        att.undo();
        throw new ApiError(400, err);
      }
      if (Date.now() >= deadline) return false;
    }
  }

  /** The managers' refusal of what the container asks for on the network (e.g. its `--ip` was taken meanwhile), as the cluster view has it. */
  refusal(containerId: string, networkId: string): string | undefined {
    const c = this.d.containers().find((x) => x.id === containerId);
    if (!c) return undefined;
    const r = this.requestOf(c, networkId);
    return this.d.view?.()?.attachErrors?.find((e) => e.containerId === containerId && e.networkId === networkId && (e.wantIp ?? '') === (r.ip ?? '') && (e.wantIp6 ?? '') === (r.ip6 ?? ''))?.error;
  }

  /** What the container asked for on the network: `network connect`'s, else `run`'s (its label). */
  private requestOf(c: AttachableContainer, networkId: string): EndpointRequest {
    const saved = this.saved.endpoints?.[c.id]?.[networkId];
    if (saved) return saved;
    try {
      return (JSON.parse(c.labels[ATTACH_CONFIG_LABEL] ?? '{}') as Record<string, EndpointRequest>)[networkId] ?? {};
    } catch {
      return {}; // a label edited by hand: the allocator picks
    }
  }

  /**
   * `network disconnect` of a swarm network: the container no longer wants
   * it (whether `network connect` or `run --network` put it there), so its
   * node's next heartbeat gives the address back. The network, or undefined
   * when `ref` names no swarm network (the caller's not-found stands).
   */
  async disconnect(ref: string, containerRef: string): Promise<SwarmNetwork | undefined> {
    if (this.d.isLocalNetwork(ref)) return undefined;
    const n = findNetwork(await this.d.networks(), ref);
    if (!n) return undefined;
    const id = this.d.containerId(containerRef);
    const c = this.d.containers().find((x) => x.id === id);
    if (!c || !this.networksOf(c).includes(n.Id)) throw new ApiError(403, `container ${id} is not connected to network ${n.Name}`);
    const fromLabel = labelNetworks(c).includes(n.Id);
    this.save({
      ...this.saved,
      connected: without(this.saved.connected, id, n.Id),
      disconnected: fromLabel ? { ...this.saved.disconnected, [id]: [...(this.saved.disconnected[id] ?? []), n.Id] } : this.saved.disconnected,
    });
    return n;
  }

  /** Whether the container is (still) to be on the swarm network. */
  wants(containerId: string, networkId: string): boolean {
    const c = this.d.containers().find((x) => x.id === containerId);
    return !!c && this.networksOf(c).includes(networkId);
  }

  /** The swarm network IDs the container is (to be) on. */
  networksOfContainer(containerId: string): string[] {
    const c = this.d.containers().find((x) => x.id === containerId);
    return c ? this.networksOf(c) : [];
  }

  private networksOf(c: AttachableContainer): string[] {
    const gone = this.saved.disconnected[c.id] ?? [];
    return [...new Set([...labelNetworks(c), ...(this.saved.connected[c.id] ?? [])])].filter((n) => !gone.includes(n));
  }

  /** Whether the container is (to be) on a swarm network: it gets the embedded DNS then. */
  has(containerId: string): boolean {
    const c = this.d.containers().find((x) => x.id === containerId);
    return !!c && this.networksOf(c).length > 0;
  }

  /** What the heartbeat reports: every running container's swarm networks. Forgets removed containers. */
  wanted(): NodeAttachment[] {
    const all = this.d.containers();
    const known = (id: string) => all.some((c) => c.id === id);
    const stale = [...Object.keys(this.saved.connected), ...Object.keys(this.saved.disconnected), ...Object.keys(this.saved.endpoints ?? {})].filter((id) => !known(id));
    if (stale.length) {
      const next: Saved = { connected: { ...this.saved.connected }, disconnected: { ...this.saved.disconnected }, endpoints: { ...(this.saved.endpoints ?? {}) } };
      for (const id of stale) {
        delete next.connected[id];
        delete next.disconnected[id];
        delete next.endpoints![id];
      }
      this.save(next);
    }
    return all
      .filter((c) => c.running)
      .flatMap((c) =>
        this.networksOf(c).map((networkId) => {
          const r = this.requestOf(c, networkId);
          return { containerId: c.id, networkId, name: c.name, ...(r.ip ? { wantIp: r.ip } : {}), ...(r.ip6 ? { wantIp6: r.ip6 } : {}), ...(r.aliases?.length ? { aliases: r.aliases } : {}) };
        }),
      );
  }

  private save(next: Saved): void {
    fs.mkdirSync(path.dirname(this.d.file), { recursive: true });
    fs.writeFileSync(`${this.d.file}.tmp`, JSON.stringify(next));
    fs.renameSync(`${this.d.file}.tmp`, this.d.file);
    this.saved = next;
  }
}

function labelNetworks(c: AttachableContainer): string[] {
  return (c.labels[ATTACH_LABEL] ?? '').split(',').filter(Boolean);
}

/** `map` with `value` taken out of `key`'s list (and the key dropped when its list is empty). */
function without(map: Record<string, string[]>, key: string, value: string): Record<string, string[]> {
  const rest = (map[key] ?? []).filter((x) => x !== value);
  const out = { ...map };
  if (rest.length) out[key] = rest;
  else delete out[key];
  return out;
}
