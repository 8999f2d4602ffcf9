// `/nodes`: the cluster's nodes as the Engine API shows them, with liveness
// from the leased keys and leadership from the election; availability,
// labels and role updates; removal with swarmkit's preconditions.
import { ApiError, badRequest } from '../../errors.js';
import type { ClusterService } from './cluster-service.js';
import { errNoSuchNode, errOutOfSequence, lookup, now, type NodeRecord, type Obj } from './model.js';
import type { Versioned } from '../../stores/cluster-store.js';

export class NodeService {
  constructor(private cluster: ClusterService) {}

  private async records(): Promise<{ list: Array<Versioned<NodeRecord>>; alive: Set<string>; leader?: string }> {
    await this.cluster.settled();
    const m = this.cluster.manager();
    const [list, alive] = await Promise.all([m.store.list<NodeRecord>('nodes/'), m.store.list<unknown>('alive/')]);
    return { list, alive: new Set(alive.map((a) => a.key.slice('alive/'.length))), leader: m.leaderId() };
  }

  private view(v: Versioned<NodeRecord>, alive: Set<string>, leader?: string): Obj {
    const n = v.value;
    const up = alive.has(n.ID) && !n.Berth.left;
    const out: Obj = {
      ID: n.ID,
      Version: { Index: v.version },
      CreatedAt: n.CreatedAt,
      UpdatedAt: n.UpdatedAt,
      Spec: n.Spec,
      Description: n.Description,
      Status: { State: up ? 'ready' : 'down', Addr: n.Status.Addr, ...(n.Status.Message && !up ? { Message: n.Status.Message } : {}) },
    };
    if (n.Spec.Role === 'manager') {
      out.ManagerStatus = { ...(leader === n.ID ? { Leader: true } : {}), Reachability: up ? 'reachable' : 'unreachable', Addr: `${n.Berth.addr}:${n.Berth.port}` };
    }
    return out;
  }

  async list(filters: Map<string, string[]>): Promise<Obj[]> {
    const { list, alive, leader } = await this.records();
    for (const k of filters.keys()) if (!['id', 'label', 'membership', 'name', 'node.label', 'role'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    return list
      .map((v) => this.view(v, alive, leader))
      .filter((n) => {
        const f = (k: string, test: (v: string) => boolean) => !filters.has(k) || filters.get(k)!.some(test);
        return (
          f('id', (v) => n.ID.startsWith(v)) &&
          f('name', (v) => n.Description?.Hostname === v || n.Spec.Name === v) &&
          f('role', (v) => n.Spec.Role === v) &&
          f('membership', (v) => v === 'accepted') &&
          f('node.label', (v) => labelMatch(n.Spec.Labels, v)) &&
          f('label', (v) => labelMatch(n.Description?.Engine?.Labels, v))
        );
      });
  }

  private async find(ref: string): Promise<{ rec: Versioned<NodeRecord>; alive: Set<string>; leader?: string }> {
    const { list, alive, leader } = await this.records();
    if (ref === 'self') ref = this.cluster.nodeId ?? ref;
    const v = lookup(list.map((x) => ({ ID: x.value.ID, x })), ref, (o) => o.x.value.Description?.Hostname, errNoSuchNode, 'node');
    return { rec: v.x, alive, leader };
  }

  async inspect(ref: string): Promise<Obj> {
    const { rec, alive, leader } = await this.find(ref);
    return this.view(rec, alive, leader);
  }

  async update(ref: string, version: number | undefined, spec: Obj): Promise<void> {
    const { store } = this.cluster.manager();
    const { rec } = await this.find(ref);
    if (version !== undefined && version !== rec.version) throw errOutOfSequence();
    if (spec.Availability && !['active', 'pause', 'drain'].includes(spec.Availability)) throw badRequest(`invalid availability: ${spec.Availability}`);
    if (spec.Role && !['manager', 'worker'].includes(spec.Role)) throw badRequest(`invalid role: ${spec.Role}`);
    const cur = rec.value;
    if (spec.Role && spec.Role !== cur.Spec.Role) {
      if (spec.Role === 'worker') {
        const managers = (await store.list<NodeRecord>('nodes/')).filter((n) => n.value.Spec.Role === 'manager');
        if (managers.length <= 1) throw new ApiError(400, 'rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm');
      }
      // The node itself takes up or gives up its etcd membership when its agent hears of the change.
    }
    const next: NodeRecord = {
      ...cur,
      Spec: { ...cur.Spec, Labels: spec.Labels ?? {}, Availability: spec.Availability ?? cur.Spec.Availability, Role: spec.Role ?? cur.Spec.Role, ...(spec.Name ? { Name: spec.Name } : {}) },
      UpdatedAt: now(),
    };
    if (!(await store.replace(`nodes/${cur.ID}`, next, rec.version))) throw errOutOfSequence();
  }

  async remove(ref: string, force: boolean): Promise<void> {
    const { store } = this.cluster.manager();
    const { rec, alive } = await this.find(ref);
    const n = rec.value;
    if (n.Spec.Role === 'manager') {
      throw new ApiError(400, `rpc error: code = FailedPrecondition desc = node ${n.ID} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
    }
    const up = alive.has(n.ID) && !n.Berth.left;
    if (up && !force) throw new ApiError(400, `rpc error: code = FailedPrecondition desc = node ${n.ID} is not down and can't be removed`);
    await store.delete(`nodes/${n.ID}`);
    await store.delete(`alive/${n.ID}`);
  }
}

function labelMatch(labels: Record<string, string> | undefined, f: string): boolean {
  const i = f.indexOf('=');
  if (i < 0) return labels?.[f] !== undefined;
  return labels?.[f.slice(0, i)] === f.slice(i + 1);
}
