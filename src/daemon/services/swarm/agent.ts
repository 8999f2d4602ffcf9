// The node agent: heartbeats to a manager, and makes the containers on this
// node match the tasks assigned to it. It keeps no state of its own: each
// heartbeat answer holds the tasks as the managers know them, and the agent
// reports what it observes when that is further along than what they know.
import type { ServerResponse } from 'node:http';
import { errorMessage } from '../../errors.js';
import { isTerminal, stateRank, taskSlotName, wantsRun, type Obj, type TaskRecord, type TaskState, type TaskStatus } from './model.js';
import type { HeartbeatReply, HeartbeatRequest } from './dispatcher.js';

/** Secret and config contents (base64) by ID, as the managers sent them. */
export interface Payloads {
  secrets: Record<string, string>;
  configs: Record<string, string>;
}

export interface TaskContainer {
  taskId: string;
  id: string;
  running: boolean;
  startedBefore: boolean;
  exitCode: number;
  pid: number;
  error: string;
  /** The container's health status, when it has a health check. */
  health?: 'starting' | 'healthy' | 'unhealthy';
}

// moby's executor: the error a task fails with when its container turned unhealthy (daemon/cluster/executor/container/errors.go).
const ERR_UNHEALTHY = 'dockerexec: unhealthy container';

/** What the agent needs from the local container service. */
export interface TaskRuntime {
  list(): TaskContainer[];
  run(task: TaskRecord, nodeId: string, payloads: Payloads): Promise<TaskContainer>;
  stop(taskId: string, graceSeconds: number): Promise<void>;
  remove(taskId: string): Promise<void>;
  streamLogs(taskId: string, query: URLSearchParams, res: ServerResponse): Promise<void>;
}

export interface AgentDeps {
  nodeId: string;
  runtime: TaskRuntime;
  heartbeat: (req: HeartbeatRequest) => Promise<HeartbeatReply>;
  description: () => Obj;
  onReply: (r: HeartbeatReply) => void;
  log: (level: string, msg: string) => void;
}

export class Agent {
  private timer?: NodeJS.Timeout;
  private running = false;
  private ticking?: Promise<void>;
  private period = 1000;
  private sentDescription = false;
  /** Start/stop work in progress, by task. */
  private inflight = new Set<string>();
  /** Outcomes of starts that failed, reported with the next heartbeat. */
  private outbox = new Map<string, TaskStatus>();
  connected: boolean | undefined;

  constructor(private d: AgentDeps) {}

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule(Math.min(1000, this.period));
      });
    }, ms);
  }

  /** Ask for an early heartbeat, to report a change without waiting for the period. */
  private nudge(): void {
    if (this.running && !this.ticking) this.schedule(50);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
  }

  /** Leaving the swarm: every task container goes. */
  async removeAll(): Promise<void> {
    await this.stop();
    for (const c of this.d.runtime.list()) {
      await this.d.runtime.remove(c.taskId).catch((e) => this.d.log('warn', `removing task ${c.taskId}: ${errorMessage(e)}`));
    }
  }

  private async tick(): Promise<void> {
    const local = new Map(this.d.runtime.list().map((c) => [c.taskId, c]));
    let reply: HeartbeatReply;
    try {
      const statuses = [...this.outbox].map(([taskId, status]) => ({ taskId, status }));
      reply = await this.d.heartbeat({ statuses: [...statuses, ...this.observed(local)], description: this.sentDescription ? undefined : this.d.description() });
      for (const s of statuses) if (this.outbox.get(s.taskId) === s.status) this.outbox.delete(s.taskId);
      this.sentDescription = true;
      this.connected = true;
    } catch (e) {
      if (this.connected !== false) this.d.log('warn', `swarm agent: heartbeat failed: ${errorMessage(e)}`);
      this.connected = false;
      return;
    }
    this.period = reply.period;
    this.payloads = { secrets: reply.secrets ?? {}, configs: reply.configs ?? {} };
    this.last = reply.tasks;
    this.d.onReply(reply);
    const assigned = new Set(reply.tasks.map((t) => t.ID));
    for (const t of reply.tasks) this.apply(t, local.get(t.ID));
    for (const c of local.values()) {
      if (assigned.has(c.taskId) || this.inflight.has(c.taskId)) continue;
      this.work(c.taskId, () => this.d.runtime.remove(c.taskId));
    }
  }

  private last: TaskRecord[] = [];
  private payloads: Payloads = { secrets: {}, configs: {} };

  /** Task states to report, from the containers as they are now. */
  private observed(local: Map<string, TaskContainer>): Array<{ taskId: string; status: TaskStatus }> {
    const out: Array<{ taskId: string; status: TaskStatus }> = [];
    for (const t of this.last) {
      if (this.inflight.has(t.ID) || this.outbox.has(t.ID)) continue;
      const c = local.get(t.ID);
      let st: TaskState | undefined;
      let err: string | undefined;
      let msg = '';
      if (c?.running) {
        // As moby's controller: a container with a health check is `starting` until it is healthy;
        // one that turned unhealthy is being stopped, and fails when it has exited.
        if (c.health === 'starting') {
          st = 'starting';
          msg = 'starting';
        } else if (c.health !== 'unhealthy') {
          st = 'running';
          msg = 'started';
        }
      } else if (c?.startedBefore) {
        if (!wantsRun(t)) st = 'shutdown';
        else if (c.exitCode === 0) st = 'complete';
        else {
          st = 'failed';
          err = `task: non-zero exit (${c.exitCode})${c.health === 'unhealthy' ? `: ${ERR_UNHEALTHY}` : ''}`;
        }
        msg = st === 'shutdown' ? 'shutdown' : 'finished';
      } else if (!c && !wantsRun(t) && !isTerminal(t.Status.State)) {
        st = 'shutdown';
        msg = 'shutdown';
      } else if (!c && wantsRun(t) && stateRank(t.Status.State) >= stateRank('starting') && !isTerminal(t.Status.State)) {
        // Its container went away behind the agent's back (`rm -f`): the task has failed.
        st = 'failed';
        msg = 'started';
        err = `No such container: ${taskSlotName(t)}.${t.ID}`;
      }
      if (c?.running && c.health === 'unhealthy' && t.Status.State === 'running' && !t.Status.Unhealthy) {
        out.push({ taskId: t.ID, status: { ...t.Status, Timestamp: new Date().toISOString(), Unhealthy: true } });
        continue;
      }
      if (!st || stateRank(st) <= stateRank(t.Status.State)) continue;
      const status: TaskStatus = { Timestamp: new Date().toISOString(), State: st, Message: msg, ...(err ? { Err: err } : {}) };
      if (c) status.ContainerStatus = { ContainerID: c.id, PID: c.running ? c.pid : 0, ExitCode: c.exitCode };
      out.push({ taskId: t.ID, status });
    }
    return out;
  }

  private apply(t: TaskRecord, c: TaskContainer | undefined): void {
    if (this.inflight.has(t.ID)) return;
    if (wantsRun(t) && !c && stateRank(t.Status.State) < stateRank('starting') && stateRank(t.Status.State) >= stateRank('assigned')) {
      this.work(t.ID, async () => {
        try {
          await this.d.runtime.run(t, this.d.nodeId, this.payloads);
        } catch (e) {
          this.outbox.set(t.ID, { Timestamp: new Date().toISOString(), State: 'rejected', Message: 'preparing', Err: errorMessage(e) });
        }
      });
      return;
    }
    if ((!wantsRun(t) || c?.health === 'unhealthy') && c?.running) {
      const grace = t.Spec.ContainerSpec?.StopGracePeriod !== undefined ? Number(t.Spec.ContainerSpec.StopGracePeriod) / 1e9 : 10;
      this.work(t.ID, () => this.d.runtime.stop(t.ID, grace));
    }
  }

  private work(taskId: string, fn: () => Promise<void>): void {
    this.inflight.add(taskId);
    void fn()
      .catch((e) => this.d.log('warn', `swarm agent: task ${taskId}: ${errorMessage(e)}`))
      .finally(() => {
        this.inflight.delete(taskId);
        this.nudge();
      });
  }
}
