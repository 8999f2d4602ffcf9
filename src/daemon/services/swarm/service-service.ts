// `/services` and `/tasks`: service specs in the store (validated and
// defaulted as swarmkit does), their tasks, and their logs gathered from the
// nodes that run them.
import { Writable } from 'node:stream';
import { ApiError, badRequest, errorMessage } from '../../errors.js';
import { Demuxer, frame } from '../../../common/stdcopy.js';
import type { Versioned } from '../../stores/cluster-store.js';
import { generateName } from '../names.js';
import type { ClusterService } from './cluster-service.js';
import { peerStream } from './peer.js';
import { onlyPlacementChanged, parseConstraint } from './scheduler.js';
import { releaseService, resolveServiceNetworks, serviceVips } from './overlay-store.js';
import {
  errNoSuchService, errNoSuchTask, errOutOfSequence, isJob, lookup, newId, now, sameSpec, taskSlotName, type NodeRecord, type Obj, type ServiceRecord, type TaskRecord,
} from './model.js';

// swarmkit's rule: '_' is allowed inside, which stack service names (<stack>_<service>) need.
const SERVICE_NAME = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;

export class ServiceService {
  constructor(
    private cluster: ClusterService,
    private localLogs: (taskId: string, q: URLSearchParams, out: Writable) => Promise<void>,
  ) {}

  private store() {
    return this.cluster.manager().store;
  }

  /** Swarmkit's validation and defaults, so every reader sees a complete spec. */
  private normalise(spec: Obj): Obj {
    if (!spec || typeof spec !== 'object') throw badRequest('service spec must be an object');
    const s: Obj = structuredClone(spec);
    s.Name = s.Name || generateName();
    if (s.Name.length > 63 || !SERVICE_NAME.test(s.Name)) throw new ApiError(400, `rpc error: code = InvalidArgument desc = name must be valid as a DNS name component`);
    s.Labels ??= {};
    const tt: Obj = (s.TaskTemplate ??= {});
    const cs: Obj = (tt.ContainerSpec ??= {});
    if (!cs.Image) throw new ApiError(400, 'rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided');
    tt.Resources ??= { Limits: {}, Reservations: {} };
    const job = !!(s.Mode?.ReplicatedJob || s.Mode?.GlobalJob);
    // A job's tasks are meant to end: by default only a failure brings one back.
    tt.RestartPolicy = { Condition: job ? 'on-failure' : 'any', Delay: 5e9, MaxAttempts: 0, ...(tt.RestartPolicy ?? {}) };
    if (!['none', 'on-failure', 'any'].includes(tt.RestartPolicy.Condition)) throw badRequest(`invalid RestartCondition: ${tt.RestartPolicy.Condition}`);
    tt.Placement ??= {};
    for (const c of (tt.Placement.Constraints ?? []) as string[]) parseConstraint(c);
    tt.ForceUpdate ??= 0;
    tt.Runtime ??= 'container';
    const count = (v: unknown, what: string) => {
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0)) throw badRequest(`invalid ${what} value ${v}`);
      return v as number | undefined;
    };
    if (s.Mode?.Global) s.Mode = { Global: {} };
    else if (s.Mode?.GlobalJob) s.Mode = { GlobalJob: {} };
    else if (s.Mode?.ReplicatedJob) {
      // swarmkit's defaults: one task at a time, as many completions as may run at once.
      const max = count(s.Mode.ReplicatedJob.MaxConcurrent, 'max-concurrent') ?? 1;
      s.Mode = { ReplicatedJob: { MaxConcurrent: max, TotalCompletions: count(s.Mode.ReplicatedJob.TotalCompletions, 'replicas') ?? max } };
    } else {
      const r = s.Mode?.Replicated?.Replicas;
      if (r !== undefined && (!Number.isInteger(r) || r < 0)) throw badRequest(`invalid replicas value ${r}`);
      s.Mode = { Replicated: { Replicas: r ?? 1 } };
    }
    for (const k of ['UpdateConfig', 'RollbackConfig']) {
      // Jobs are not rolled out: each update starts a new run instead.
      if (job) continue;
      s[k] = { Parallelism: 1, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first', ...(s[k] ?? {}) };
      const order = s[k].Order || 'stop-first';
      if (order !== 'stop-first' && order !== 'start-first') throw badRequest(`unrecognized update order ${order}`);
      s[k].Order = order;
    }
    const ep: Obj = (s.EndpointSpec ??= { Mode: 'vip' });
    ep.Mode ??= 'vip';
    ep.Ports = ((ep.Ports ?? []) as Obj[]).map((p) => {
      if (!p.TargetPort) throw badRequest('invalid port: the target port is required');
      return { Protocol: p.Protocol || 'tcp', TargetPort: p.TargetPort, PublishedPort: p.PublishedPort ?? 0, PublishMode: p.PublishMode || 'ingress' };
    });
    return s;
  }

  private endpoint(spec: Obj): Obj {
    const ports = (spec.EndpointSpec?.Ports ?? []) as Obj[];
    return { Spec: spec.EndpointSpec, ...(ports.length ? { Ports: ports } : {}) };
  }

  private async all(): Promise<Array<Versioned<ServiceRecord>>> {
    return this.store().list<ServiceRecord>('services/');
  }

  private view(v: Versioned<ServiceRecord>, tasks?: TaskRecord[], nodes?: Map<string, NodeRecord>, alive?: Set<string>): Obj {
    const s = v.value;
    const out: Obj = {
      ID: s.ID, Version: { Index: v.version }, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Spec: s.Spec,
      ...(s.PreviousSpec ? { PreviousSpec: s.PreviousSpec } : {}), Endpoint: s.Endpoint, ...(s.UpdateStatus ? { UpdateStatus: s.UpdateStatus } : {}),
      ...(s.JobStatus ? { JobStatus: s.JobStatus } : {}),
    };
    if (tasks && nodes && alive) {
      const up = (id: string) => alive.has(id) && nodes.has(id);
      const mode = s.Spec.Mode ?? {};
      if (mode.ReplicatedJob || mode.GlobalJob) {
        // swarmkit's ListServiceStatuses for jobs: only the current iteration counts. A replicated job
        // desires what may still run at once; a global job the tasks that have not completed yet.
        const cur = tasks.filter((t) => t.ServiceID === s.ID && t.JobIteration?.Index === (s.JobStatus?.JobIteration.Index ?? 0));
        const completed = cur.filter((t) => t.Status.State === 'complete').length;
        out.ServiceStatus = {
          RunningTasks: cur.filter((t) => t.Status.State === 'running' && up(t.NodeID)).length,
          DesiredTasks: mode.ReplicatedJob
            ? Math.max(0, Math.min(Number(mode.ReplicatedJob.MaxConcurrent), Number(mode.ReplicatedJob.TotalCompletions) - completed))
            : cur.filter((t) => t.DesiredState === 'complete' && t.Status.State !== 'complete').length,
          CompletedTasks: completed,
        };
        return out;
      }
      const mine = tasks.filter((t) => t.ServiceID === s.ID);
      out.ServiceStatus = {
        RunningTasks: mine.filter((t) => t.Status.State === 'running' && up(t.NodeID)).length,
        DesiredTasks: s.Spec.Mode?.Global ? mine.filter((t) => t.DesiredState === 'running').length : Number(s.Spec.Mode?.Replicated?.Replicas ?? 0),
        CompletedTasks: mine.filter((t) => t.Status.State === 'complete' && t.DesiredState === 'running').length,
      };
    }
    return out;
  }

  private async find(ref: string): Promise<Versioned<ServiceRecord>> {
    const list = await this.all();
    return lookup(list.map((x) => ({ ID: x.value.ID, x })), ref, (o) => o.x.value.Spec.Name, errNoSuchService, 'service').x;
  }

  /** `registryAuth`: the X-Registry-Auth header (`--with-registry-auth`), handed to the nodes with the tasks. */
  async create(spec: Obj, registryAuth = ''): Promise<{ ID: string; Warnings?: string[] }> {
    const s = this.normalise(spec);
    await this.cluster.secrets.resolveRefs(s);
    const list = await this.all();
    if (list.some((x) => x.value.Spec.Name === s.Name)) throw new ApiError(409, `rpc error: code = AlreadyExists desc = name conflicts with an existing object: service ${s.Name} already exists`);
    const t = now();
    const store = this.store();
    await resolveServiceNetworks(store, s);
    const rec: ServiceRecord = { ID: newId(), Version: { Index: 0 }, CreatedAt: t, UpdatedAt: t, Spec: s, Endpoint: this.endpoint(s), ...(registryAuth ? { RegistryAuth: registryAuth } : {}) };
    if (s.Mode.ReplicatedJob || s.Mode.GlobalJob) rec.JobStatus = { JobIteration: { Index: 0 }, LastExecution: t };
    // VIPs before the record: the reconciler makes tasks as soon as it sees it, and DNS answers with them.
    const vips = await serviceVips(store, rec);
    if (vips.length) rec.Endpoint.VirtualIPs = vips;
    await store.create(`services/${rec.ID}`, rec);
    return { ID: rec.ID };
  }

  async list(filters: Map<string, string[]>, status: boolean): Promise<Obj[]> {
    for (const k of filters.keys()) if (!['id', 'label', 'mode', 'name'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const list = await this.all();
    let extra: [TaskRecord[], Map<string, NodeRecord>, Set<string>] | undefined;
    if (status) extra = await this.statusInputs();
    return list
      .filter((v) => {
        const s = v.value;
        const f = (k: string, test: (x: string) => boolean) => !filters.has(k) || filters.get(k)!.some(test);
        return (
          f('id', (x) => s.ID.startsWith(x)) &&
          f('name', (x) => s.Spec.Name.startsWith(x)) &&
          f('mode', (x) => x === modeName(s.Spec.Mode)) &&
          f('label', (x) => labelMatch(s.Spec.Labels, x))
        );
      })
      .map((v) => (extra ? this.view(v, ...extra) : this.view(v)));
  }

  private async statusInputs(): Promise<[TaskRecord[], Map<string, NodeRecord>, Set<string>]> {
    const store = this.store();
    const [tasks, nodes, alive] = await Promise.all([store.list<TaskRecord>('tasks/'), store.list<NodeRecord>('nodes/'), store.list<unknown>('alive/')]);
    return [tasks.map((t) => t.value), new Map(nodes.map((n) => [n.value.ID, n.value])), new Set(alive.map((a) => a.key.slice('alive/'.length)))];
  }

  async inspect(ref: string, status = false): Promise<Obj> {
    const v = await this.find(ref);
    return status ? this.view(v, ...(await this.statusInputs())) : this.view(v);
  }

  /** Without `registryAuth` the service keeps the credentials it has (docker's registryAuthFrom=spec). */
  async update(ref: string, version: number | undefined, spec: Obj, rollback: boolean, registryAuth = ''): Promise<{ Warnings: string[] }> {
    const cur = await this.find(ref);
    if (version !== undefined && version !== cur.version) throw errOutOfSequence();
    let next: Obj;
    if (rollback) {
      if (!cur.value.PreviousSpec) throw new ApiError(400, `rpc error: code = FailedPrecondition desc = service ${cur.value.ID} does not have a previous spec`);
      next = cur.value.PreviousSpec;
    } else {
      next = this.normalise({ ...spec, Name: spec.Name || cur.value.Spec.Name });
      await this.cluster.secrets.resolveRefs(next);
      await resolveServiceNetworks(this.store(), next);
    }
    if (next.Name !== cur.value.Spec.Name) throw new ApiError(400, 'rpc error: code = Unimplemented desc = renaming services is not supported');
    if (isJob(next) !== isJob(cur.value.Spec)) throw new ApiError(400, 'rpc error: code = Unimplemented desc = service mode change is not allowed');
    const rec: ServiceRecord = { ...cur.value, Spec: next, PreviousSpec: cur.value.Spec, UpdatedAt: now(), Endpoint: this.endpoint(next), ...(registryAuth ? { RegistryAuth: registryAuth } : {}) };
    const vips = await serviceVips(this.store(), rec);
    if (vips.length) rec.Endpoint.VirtualIPs = vips;
    // A new task template or endpoint means new tasks: the reconciler rolls them out.
    const changed = (k: string) => !sameSpec(next[k], cur.value.Spec[k]);
    if (next.Mode?.ReplicatedJob || next.Mode?.GlobalJob) {
      // As swarmkit: every update of a job runs it again, as a new iteration (numbered by the service's version).
      rec.JobStatus = { JobIteration: { Index: cur.version }, LastExecution: now() };
    } else if (rollback) rec.UpdateStatus = { State: 'rollback_started', StartedAt: now(), Message: 'manually requested rollback' };
    else if (changed('TaskTemplate') || changed('EndpointSpec')) rec.UpdateStatus = { State: 'updating', StartedAt: now(), Message: 'update in progress' };

    if (!(await this.store().replace(`services/${rec.ID}`, rec, cur.version))) throw errOutOfSequence();
    return { Warnings: [] };
  }

  async remove(ref: string): Promise<void> {
    const v = await this.find(ref);
    await this.store().delete(`services/${v.value.ID}`);
    await releaseService(this.store(), v.value.ID);
  }

  // ---- tasks ----------------------------------------------------------------

  private taskView(v: Versioned<TaskRecord>): Obj {
    const { ServiceName: _n, Endpoint: _e, RegistryAuth: _a, ...t } = v.value;
    const { Unhealthy: _u, ...status } = t.Status;
    return { ...t, Status: status, Version: { Index: v.version } };
  }

  async tasks(filters: Map<string, string[]>): Promise<Obj[]> {
    for (const k of filters.keys()) if (!['id', 'name', 'service', 'node', 'label', 'desired-state', '_up-to-date'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const store = this.store();
    const [tasks, services, nodes] = await Promise.all([store.list<TaskRecord>('tasks/'), this.all(), store.list<NodeRecord>('nodes/')]);
    const svcIds = (refs: string[]) =>
      new Set(
        refs.map((r) => {
          const s = services.find((x) => x.value.ID === r || x.value.Spec.Name === r) ?? services.find((x) => x.value.ID.startsWith(r));
          return s?.value.ID ?? r;
        }),
      );
    const svcFilter = filters.has('service') ? svcIds(filters.get('service')!) : undefined;
    const nodeFilter = filters.has('node')
      ? new Set(filters.get('node')!.map((r) => nodes.find((n) => n.value.ID === r || n.value.Description?.Hostname === r || (r === 'self' && n.value.ID === this.cluster.nodeId))?.value.ID ?? r))
      : undefined;
    return tasks
      .filter((v) => {
        const t = v.value;
        const f = (k: string, test: (x: string) => boolean) => !filters.has(k) || filters.get(k)!.some(test);
        const name = taskSlotName(t);
        return (
          (!svcFilter || svcFilter.has(t.ServiceID)) &&
          (!nodeFilter || nodeFilter.has(t.NodeID)) &&
          f('id', (x) => t.ID.startsWith(x)) &&
          f('name', (x) => name.startsWith(x)) &&
          f('desired-state', (x) => (x === 'accepted' ? t.DesiredState === 'running' : t.DesiredState === x)) &&
          f('label', (x) => labelMatch(t.Labels, x)) &&
          f('_up-to-date', () => {
            const s = services.find((x) => x.value.ID === t.ServiceID);
            const tmpl = s?.value.Spec.TaskTemplate;
            const node = nodes.find((n) => n.value.ID === t.NodeID)?.value;
            return !!s && (sameSpec(tmpl, t.Spec) || onlyPlacementChanged(t.Spec, tmpl ?? {}, node)) && sameSpec(s.value.Spec.EndpointSpec, t.Endpoint);
          })
        );
      })
      .map((v) => this.taskView(v));
  }

  async task(ref: string): Promise<Obj> {
    const list = await this.store().list<TaskRecord>('tasks/');
    return this.taskView(lookup(list.map((x) => ({ ID: x.value.ID, x })), ref, () => undefined, errNoSuchTask, 'task').x);
  }

  /**
   * Logs of every task of a service (or one task), each line preceded by the
   * swarm details dockerd adds (node, service, task IDs), which the docker
   * CLI turns into its `name.slot.id@node |` prefix.
   */
  async logs(ref: string, isTask: boolean, q: URLSearchParams, out: Writable): Promise<void> {
    const store = this.store();
    let tasks: TaskRecord[];
    if (isTask) tasks = [(await this.task(ref)) as TaskRecord];
    else {
      const svc = await this.find(ref);
      tasks = (await store.list<TaskRecord>('tasks/')).map((t) => t.value).filter((t) => t.ServiceID === svc.value.ID && t.NodeID);
    }
    const details = q.get('details') === '1' || q.get('details') === 'true';
    const remoteQ = new URLSearchParams(q);
    remoteQ.delete('details');
    await Promise.all(
      tasks.map(async (t) => {
        const prefix = Buffer.from(`com.docker.swarm.node.id=${t.NodeID},com.docker.swarm.service.id=${t.ServiceID},com.docker.swarm.task.id=${t.ID} `);
        const timestamps = q.get('timestamps') === '1' || q.get('timestamps') === 'true';
        const demux = new Demuxer((stream: number, data: Buffer) => {
          let line = data;
          if (details) {
            // dockerd's order: `<time> <details> <line>`.
            const sp = timestamps ? data.indexOf(0x20) + 1 : 0;
            line = Buffer.concat([data.subarray(0, sp), prefix, data.subarray(sp)]);
          }
          out.write(frame(stream === 2 ? 2 : 1, line));
        });
        try {
          const ep = await this.cluster.nodeEndpoint(t.NodeID);
          remoteQ.set('task', t.ID);
          if (ep.local) {
            const sink = new Writable({ write: (c: Buffer, _e, cb) => (demux.push(c), cb()) });
            await this.localLogs(t.ID, remoteQ, sink);
          } else {
            const res = await peerStream(ep.addr, `/logs?${remoteQ}`, ep.tls);
            for await (const c of res) demux.push(c as Buffer);
          }
        } catch (e) {
          // A task whose node is gone or whose container was removed has no logs to add.
          if (!(e instanceof ApiError && e.status === 404)) out.write(frame(2, Buffer.from(`${details ? prefix : ''}error from daemon in stream: ${errorMessage(e)}\n`)));
        }
      }),
    );
  }
}

/** The `mode` filter's names (moby's GetServices). */
function modeName(m: Obj | undefined): string {
  return m?.Global ? 'global' : m?.ReplicatedJob ? 'replicated-job' : m?.GlobalJob ? 'global-job' : 'replicated';
}

function labelMatch(labels: Record<string, string> | undefined, f: string): boolean {
  const i = f.indexOf('=');
  if (i < 0) return labels?.[f] !== undefined;
  return labels?.[f.slice(0, i)] === f.slice(i + 1);
}
