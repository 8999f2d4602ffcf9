// docker/cli's formatters for swarm objects: node ls, service ls, service/node
// ps rows, and the progress shown while a service converges.
import type { Ctx } from '../command.js';
import { RowContext } from './context.js';
import { ellipsis, truncateID } from './display.js';
import { humanDuration } from '../../common/units.js';
import { enc } from '../batch.js';
import { StatusError } from '../flags.js';

/** command.PrettyPrint: first letter upper-case. */
export function pretty(s: string | undefined): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : '';
}

export const NODE_TABLE = 'table {{.ID}} {{if .Self}}*{{else}} {{ end }}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.EngineVersion}}';
export const NODE_HEADER = { ID: 'ID', Self: '', Hostname: 'HOSTNAME', Status: 'STATUS', Availability: 'AVAILABILITY', ManagerStatus: 'MANAGER STATUS', EngineVersion: 'ENGINE VERSION', TLSStatus: 'TLS STATUS' };

export class NodeContext extends RowContext {
  constructor(
    private n: any,
    private selfId: string,
  ) {
    super();
  }
  ID(): string {
    return this.n.ID;
  }
  Self(): boolean {
    return this.n.ID === this.selfId;
  }
  Hostname(): string {
    return this.n.Description?.Hostname ?? '';
  }
  Status(): string {
    return pretty(this.n.Status?.State);
  }
  Availability(): string {
    return pretty(this.n.Spec?.Availability);
  }
  ManagerStatus(): string {
    const m = this.n.ManagerStatus;
    if (!m) return '';
    return m.Leader ? 'Leader' : pretty(m.Reachability);
  }
  TLSStatus(): string {
    return 'Ready';
  }
  EngineVersion(): string {
    return this.n.Description?.Engine?.EngineVersion ?? '';
  }
}

/** `*:8080->80/tcp` per published port. */
export function portsText(ports: any[] | undefined): string {
  return (ports ?? [])
    .filter((p) => p.PublishedPort)
    .map((p) => `*:${p.PublishedPort}->${p.TargetPort}/${p.Protocol ?? 'tcp'}`)
    .join(', ');
}

export const SERVICE_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}';
export const SERVICE_HEADER = { ID: 'ID', Name: 'NAME', Mode: 'MODE', Replicas: 'REPLICAS', Image: 'IMAGE', Ports: 'PORTS' };

export class ServiceContext extends RowContext {
  constructor(private s: any) {
    super();
  }
  ID(): string {
    return truncateID(this.s.ID);
  }
  Name(): string {
    return this.s.Spec.Name;
  }
  Mode(): string {
    const m = this.s.Spec.Mode ?? {};
    return m.Global ? 'global' : m.ReplicatedJob ? 'replicated job' : m.GlobalJob ? 'global job' : 'replicated';
  }
  Replicas(): string {
    const st = this.s.ServiceStatus;
    if (!st) return '';
    // Jobs add their progress as a whole (docker/cli's serviceContext.Replicas).
    const m = this.s.Spec.Mode ?? {};
    if (m.ReplicatedJob) return `${st.RunningTasks}/${st.DesiredTasks} (${st.CompletedTasks ?? 0}/${m.ReplicatedJob.TotalCompletions} completed)`;
    if (m.GlobalJob) return `${st.RunningTasks}/${st.DesiredTasks} (${st.CompletedTasks ?? 0}/${st.DesiredTasks + (st.CompletedTasks ?? 0)} completed)`;
    return `${st.RunningTasks}/${st.DesiredTasks}`;
  }
  Image(): string {
    // As docker: the reference without its digest.
    return String(this.s.Spec.TaskTemplate?.ContainerSpec?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, '');
  }
  Ports(): string {
    return portsText(this.s.Endpoint?.Ports);
  }
}

export const TASK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}';
export const TASK_HEADER = { ID: 'ID', Name: 'NAME', Image: 'IMAGE', Node: 'NODE', DesiredState: 'DESIRED STATE', CurrentState: 'CURRENT STATE', Error: 'ERROR', Ports: 'PORTS' };

export class TaskContext extends RowContext {
  constructor(
    private t: any,
    private name: string,
    private node: string,
    private trunc: boolean,
    private now: number,
  ) {
    super();
  }
  ID(): string {
    return this.trunc ? truncateID(this.t.ID) : this.t.ID;
  }
  Name(): string {
    return this.name;
  }
  Image(): string {
    const img = String(this.t.Spec?.ContainerSpec?.Image ?? '');
    return this.trunc ? img.replace(/@sha256:[0-9a-f]+$/, '') : img;
  }
  Node(): string {
    return this.node;
  }
  DesiredState(): string {
    return pretty(this.t.DesiredState);
  }
  CurrentState(): string {
    return `${pretty(this.t.Status?.State)} ${humanDuration(Math.max(0, this.now - Date.parse(this.t.Status?.Timestamp))).toLowerCase()} ago`;
  }
  Error(): string {
    let e = String(this.t.Status?.Err ?? '');
    if (this.trunc) e = ellipsis(e, 30);
    return e ? `"${e}"` : '';
  }
  Ports(): string {
    return portsText(this.t.Status?.PortStatus?.Ports);
  }
}

/**
 * Rows for `service ps` / `node ps`: grouped by slot (or node, for global
 * services), newest first; older tasks of a slot get docker's ` \_ ` prefix.
 */
export async function taskRows(ctx: Ctx, tasks: any[], o: { trunc: boolean; resolve: boolean }): Promise<TaskContext[]> {
  const services = new Map<string, string>();
  const nodes = new Map<string, string>();
  for (const t of tasks) {
    if (!services.has(t.ServiceID)) {
      const s = await ctx.client.get(`/services/${enc(t.ServiceID)}`).catch(() => undefined);
      services.set(t.ServiceID, s?.Spec?.Name ?? t.ServiceID);
    }
    if (t.NodeID && !nodes.has(t.NodeID)) {
      const n = o.resolve ? await ctx.client.get(`/nodes/${enc(t.NodeID)}`).catch(() => undefined) : undefined;
      nodes.set(t.NodeID, n?.Description?.Hostname ?? t.NodeID);
    }
  }
  const nameOf = (t: any) => `${services.get(t.ServiceID)}.${t.Slot ? t.Slot : t.NodeID}`;
  const sorted = [...tasks].sort((a, b) => {
    const na = nameOf(a);
    const nb = nameOf(b);
    if (na !== nb) {
      // Slots in numeric order within a service.
      const sa = services.get(a.ServiceID)!;
      const sb = services.get(b.ServiceID)!;
      if (sa !== sb) return sa < sb ? -1 : 1;
      return (a.Slot ?? 0) - (b.Slot ?? 0) || (na < nb ? -1 : 1);
    }
    return Date.parse(b.Status?.Timestamp ?? b.CreatedAt) - Date.parse(a.Status?.Timestamp ?? a.CreatedAt) || (b.DesiredState === 'running' ? 1 : 0) - (a.DesiredState === 'running' ? 1 : 0);
  });
  const now = Date.now();
  let prev = '';
  return sorted.map((t) => {
    const name = nameOf(t);
    const shown = name === prev ? ` \\_ ${name}` : name;
    prev = name;
    return new TaskContext(t, shown, t.NodeID ? nodes.get(t.NodeID)! : '', o.trunc, now);
  });
}

/**
 * Waits until the service runs as many up-to-date tasks as it wants (and a
 * rolling update or rollback under way has finished), printing docker's
 * progress lines ("overall progress: 2 out of 3 tasks") as they change. A
 * paused update ends it with docker's error.
 */
export async function waitConverged(ctx: Ctx, serviceId: string, timeoutMs = 180_000): Promise<void> {
  const first = await ctx.client.get(`/services/${enc(serviceId)}`);
  if (first.JobStatus) return waitJob(ctx, first, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let rollbackSeen = false;
  const startedState = first.UpdateStatus?.State;
  while (Date.now() < deadline) {
    const svc = await ctx.client.get(`/services/${enc(serviceId)}`, { status: true });
    const us = svc.UpdateStatus;
    if (us?.State === 'paused') throw new StatusError(`service update paused: ${us.Message}`, 1);
    if (us?.State === 'rollback_paused') throw new StatusError(`service rollback paused: ${us.Message}`, 1);
    if (us?.State === 'rollback_started' && !rollbackSeen) {
      rollbackSeen = true;
      ctx.stdout.write(`rollback: ${us.Message}\n`);
    }
    const tasks: any[] = await ctx.client.get('/tasks', {
      filters: JSON.stringify({ service: { [serviceId]: true }, 'desired-state': { running: true }, '_up-to-date': { true: true } }),
    });
    const want = svc.Spec.Mode?.Global ? Math.max(tasks.length, svc.ServiceStatus?.DesiredTasks ?? 0) : Number(svc.Spec.Mode?.Replicated?.Replicas ?? 0);
    const running = tasks.filter((t) => t.Status.State === 'running').length;
    const line = `overall progress: ${Math.min(running, want)} out of ${want} tasks`;
    if (line !== last) ctx.stdout.write(line + '\n');
    last = line;
    const updating = us?.State === 'updating' || us?.State === 'rollback_started';
    if (!updating && running === want && tasks.length === want) {
      ctx.stdout.write(`verify: Service ${serviceId} converged \n`);
      if (rollbackSeen && startedState === 'updating') throw new StatusError(`service rolled back: ${us?.Message ?? ''}`.replace(/: $/, ''), 1);
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  ctx.stdout.write(`verify: Service ${serviceId} did not converge within ${timeoutMs / 1000}s\n`);
}

/**
 * A job's progress until every task of its current iteration has completed
 * (docker/cli's job progress updaters): "job progress: 1 out of 3 complete",
 * for a replicated job also "active tasks: 2 out of 2 tasks", then "job complete".
 */
async function waitJob(ctx: Ctx, svc: any, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const iteration = svc.JobStatus.JobIteration.Index;
  const rj = svc.Spec.Mode?.ReplicatedJob;
  let last = '';
  let total: number | undefined = rj ? Number(rj.TotalCompletions) : undefined;
  while (Date.now() < deadline) {
    const tasks: any[] = (await ctx.client.get('/tasks', { filters: JSON.stringify({ service: { [svc.ID]: true } }) })).filter(
      (t: any) => t.JobIteration?.Index === iteration && (t.DesiredState === 'complete' || t.Status.State === 'complete'),
    );
    // A global job runs once on each node that has a task of this run (the manager makes them one after another).
    if (!rj && tasks.length) total = Math.max(total ?? 0, new Set(tasks.map((t) => t.NodeID)).size);
    const complete = tasks.filter((t) => t.Status.State === 'complete').length;
    const active = tasks.filter((t) => !['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'].includes(t.Status.State)).length;
    let text = total === undefined ? 'job progress: waiting for tasks' : `job progress: ${complete} out of ${total} complete`;
    if (rj && total !== undefined) text += `\nactive tasks: ${active} out of ${Math.min(Number(rj.MaxConcurrent), total - complete)} tasks`;
    if (text !== last) ctx.stdout.write(text + '\n');
    last = text;
    if (total !== undefined && complete >= total) {
      ctx.stdout.write('job complete\n');
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  ctx.stdout.write(`verify: Service ${svc.ID} did not converge within ${timeoutMs / 1000}s\n`);
}
