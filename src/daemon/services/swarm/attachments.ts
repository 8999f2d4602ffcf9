// Plain containers on attachable overlay networks (docker's `run --network
// <overlay>` and `network connect <overlay>` on a swarm node). The node keeps
// which of its containers want which swarm networks — `run --network` as a
// label on the container, `network connect` in a small file — and reports
// the running ones with every heartbeat; the managers give each an address
// on the network and put it in the cluster view, from which the node's
// overlay agent plugs it in like a task's endpoint. The container keeps the
// default bridge as eth0 for outbound traffic, as a task does (docker's
// docker_gwbridge).
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../errors.js';
import { findNetwork, type NodeAttachment, type SwarmNetwork } from './overlay-store.js';
import type { Obj } from './model.js';

/** The label `run --network <overlay>` leaves on the container: the swarm network IDs, comma-separated. */
export const ATTACH_LABEL = 'com.docker.swarm.network.attach';

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
}

/** What the file keeps: per container, the networks `network connect` added and those `network disconnect` took from its label. */
interface Saved {
  connected: Record<string, string[]>;
  disconnected: Record<string, string[]>;
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
    delete eps[mode];
    return {
      ...b,
      Labels: { ...(b!.Labels ?? {}), [ATTACH_LABEL]: n.Id },
      HostConfig: { ...b!.HostConfig, NetworkMode: 'bridge' },
      NetworkingConfig: { ...(b!.NetworkingConfig ?? {}), EndpointsConfig: eps },
    };
  }

  /** `network connect` of a swarm network: the container and network IDs; undefined when `ref` names none (the caller's not-found stands). */
  async connect(ref: string, containerRef: string): Promise<{ containerId: string; networkId: string; running: boolean } | undefined> {
    const n = await this.attachable(ref);
    if (!n) return undefined;
    const id = this.d.containerId(containerRef);
    const c = this.d.containers().find((x) => x.id === id);
    if (c && this.networksOf(c).includes(n.Id)) {
      throw new ApiError(403, `endpoint with name ${c.name} already exists in network ${n.Name}`);
    }
    const fromLabel = !!c && labelNetworks(c).includes(n.Id);
    this.save({
      connected: fromLabel ? this.saved.connected : { ...this.saved.connected, [id]: [...(this.saved.connected[id] ?? []), n.Id] },
      disconnected: without(this.saved.disconnected, id, n.Id),
    });
    return { containerId: id, networkId: n.Id, running: !!c?.running };
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
    const stale = [...Object.keys(this.saved.connected), ...Object.keys(this.saved.disconnected)].filter((id) => !known(id));
    if (stale.length) {
      const next: Saved = { connected: { ...this.saved.connected }, disconnected: { ...this.saved.disconnected } };
      for (const id of stale) {
        delete next.connected[id];
        delete next.disconnected[id];
      }
      this.save(next);
    }
    return all.filter((c) => c.running).flatMap((c) => this.networksOf(c).map((networkId) => ({ containerId: c.id, networkId, name: c.name })));
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
