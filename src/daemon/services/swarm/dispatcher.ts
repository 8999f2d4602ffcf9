// The managers' side of the agents' heartbeats: keeps each node's liveness
// key alive (a leased key that lapses when the heartbeats stop), records what
// the node reports about its tasks, and answers with the tasks assigned to it.
import { ApiError, errorMessage } from '../../errors.js';
import type { ClusterStore } from '../../stores/cluster-store.js';
import { overlayReply, syncAttachments, type NodeAttachment, type OverlayReply } from './overlay-store.js';
import { stateRank, type ClusterRecord, type NodeRecord, type Obj, type TaskRecord, type TaskStatus } from './model.js';

export interface HeartbeatRequest {
  statuses: Array<{ taskId: string; status: TaskStatus }>;
  /** Sent with the first heartbeat after the agent starts (hostname, resources, engine). */
  description?: Obj;
  /** The node's running plain containers on attachable overlay networks (all of them, every time). */
  attachments?: NodeAttachment[];
}

export interface HeartbeatReply {
  tasks: TaskRecord[];
  managers: string[];
  role: 'manager' | 'worker';
  /** Heartbeat period in milliseconds. */
  period: number;
  /** Payloads (base64) of the secrets and configs the node's tasks use, by ID. */
  secrets?: Record<string, string>;
  configs?: Record<string, string>;
  /** The cluster as the node's overlay data plane and DNS need it. */
  overlay?: OverlayReply;
  /** The root CA nodes' certificates should come from, the roots they should trust (more than one during a CA rotation), and whether it is time for certificates from the new root. */
  ca?: { root: string; trust: string; renew?: boolean };
}

export const aliveKey = (nodeId: string) => `alive/${nodeId}`;

export class Dispatcher {
  constructor(
    private store: ClusterStore,
    private log: (level: string, msg: string) => void,
    private payloads: (tasks: TaskRecord[]) => Promise<{ secrets: Record<string, string>; configs: Record<string, string> }>,
  ) {}

  async period(): Promise<number> {
    const c = await this.store.get<ClusterRecord>('cluster');
    return Math.max(100, Math.round(Number(c?.value.Spec.Dispatcher?.HeartbeatPeriod ?? 5e9) / 1e6));
  }

  async heartbeat(nodeId: string, req: HeartbeatRequest): Promise<HeartbeatReply> {
    const node = await this.store.get<NodeRecord>(`nodes/${nodeId}`);
    if (!node) throw new ApiError(404, `node ${nodeId} not found`);
    const period = await this.period();
    // Down after three missed heartbeats, as swarmkit's dispatcher decides.
    await this.store.touch(aliveKey(nodeId), Math.max(2, Math.ceil((3 * period) / 1000)));
    if (req.description || node.value.Status.State !== 'ready') {
      await this.store.update<NodeRecord>(`nodes/${nodeId}`, (n) => ({
        ...n,
        Description: req.description ?? n.Description,
        Status: { ...n.Status, State: 'ready' },
        UpdatedAt: new Date().toISOString(),
      }));
    }
    if (req.attachments) await syncAttachments(this.store, nodeId, req.attachments);
    for (const { taskId, status } of req.statuses ?? []) {
      await this.store.update<TaskRecord>(`tasks/${taskId}`, (t) => {
        // Only forward, but for the flag that takes a running task out of its service's backends.
        const unhealthy = status.Unhealthy && !t.Status.Unhealthy && status.State === t.Status.State;
        if (t.NodeID !== nodeId || (stateRank(status.State) <= stateRank(t.Status.State) && !unhealthy)) return undefined;
        return { ...t, Status: status, UpdatedAt: new Date().toISOString() };
      });
    }
    const tasks = (await this.store.list<TaskRecord>('tasks/')).filter((t) => t.value.NodeID === nodeId).map((t) => t.value);
    // The data plane is level-triggered: a reply without the view is made good by the next one.
    const overlay = await overlayReply(this.store).catch((e) => void this.log('warn', `swarm: overlay view: ${errorMessage(e)}`));
    return { tasks, managers: await this.managerAddrs(), role: node.value.Spec.Role, period, ...(await this.payloads(tasks)), ...(overlay ? { overlay } : {}) };
  }

  /** A node left the swarm: it is down from now on (it stays listed until `node rm`). */
  async nodeLeft(nodeId: string): Promise<void> {
    await this.store.delete(aliveKey(nodeId));
    await this.store.update<NodeRecord>(`nodes/${nodeId}`, (n) => ({ ...n, Status: { ...n.Status, State: 'down', Message: 'node left the swarm' }, Berth: { ...n.Berth, left: true } }));
    this.log('info', `swarm: node ${nodeId} left`);
  }

  async managerAddrs(): Promise<string[]> {
    return (await this.store.list<NodeRecord>('nodes/')).filter((n) => n.value.Spec.Role === 'manager').map((n) => `${n.value.Berth.addr}:${n.value.Berth.port}`);
  }
}
