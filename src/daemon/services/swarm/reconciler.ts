// The leader's orchestrator: compares the services' desired state with the
// tasks and nodes in the store and closes the gap — new tasks for missing
// replicas and nodes (global), replacements for tasks that ended (by restart
// policy) or whose node went down or was drained, shutdown for surplus tasks,
// and pruning of task history. Runs on a timer and whenever the store changes.
import { errorMessage } from '../../errors.js';
import type { ClusterStore } from '../../stores/cluster-store.js';
import { eligibleNodes, onlyPlacementChanged, placeTask, satisfies, parseConstraint, spreadPrefs, type Candidate } from './scheduler.js';
import { ensureIngress, sweepLeases, taskAttachments } from './overlay-store.js';
import { isJob, isTerminal, newId, now, sameSpec, wantsRun, type ClusterRecord, type NodeRecord, type ServiceRecord, type TaskRecord } from './model.js';

const DEFAULT_RESTART_DELAY = 5e9;

export class Reconciler {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private running?: Promise<void>;
  private again = false;
  private unwatch: Array<() => Promise<void>> = [];
  /** When this node became leader: liveness keys granted by a previous leader may have lapsed meanwhile. */
  private readonly since = Date.now();

  constructor(
    private store: ClusterStore,
    private log: (level: string, msg: string) => void,
  ) {}

  start(): void {
    for (const p of ['services/', 'nodes/', 'alive/', 'tasks/']) {
      this.store.watch(p, () => this.trigger()).then(
        (u) => (this.stopped ? void u() : this.unwatch.push(u)),
        (e) => this.log('warn', `reconciler: watching ${p}: ${errorMessage(e)}`),
      );
    }
    this.loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const u of this.unwatch) void u().catch(() => undefined);
    this.unwatch = [];
  }

  private loop(): void {
    if (this.stopped) return;
    this.trigger();
    this.timer = setTimeout(() => this.loop(), 1000);
  }

  /** Runs a pass now, or right after the one under way. */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((e) => this.log('warn', `reconciler: ${errorMessage(e)}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          setTimeout(() => this.trigger(), 50);
        }
      });
  }

  private async pass(): Promise<void> {
    const [clusterRec, nodeRecs, svcRecs, taskRecs, aliveRecs] = await Promise.all([
      this.store.get<ClusterRecord>('cluster'),
      this.store.list<NodeRecord>('nodes/'),
      this.store.list<ServiceRecord>('services/'),
      this.store.list<TaskRecord>('tasks/'),
      this.store.list<unknown>('alive/'),
    ]);
    const alive = new Set(aliveRecs.map((a) => a.key.slice('alive/'.length)));
    const nodes = nodeRecs.map((n) => n.value);
    // As swarmkit's dispatcher after an election: nodes get three heartbeat periods to
    // reach the new leader before they count as down.
    const periodMs = Number(clusterRec?.value.Spec.Dispatcher?.HeartbeatPeriod ?? 5e9) / 1e6;
    const grace = Date.now() - this.since < 3 * periodMs + 1000;
    const ready = (n: NodeRecord | undefined) =>
      !!n && !n.Berth.left && (alive.has(n.ID) || (grace && n.Status.State === 'ready'));
    for (const n of nodes) {
      const state = ready(n) ? 'ready' : 'down';
      if (n.Status.State !== state) {
        await this.store.update<NodeRecord>(`nodes/${n.ID}`, (x) => ({ ...x, Status: { ...x.Status, State: state }, UpdatedAt: now() }));
        this.log('info', `swarm: node ${n.ID} (${n.Description?.Hostname}) is ${state}`);
      }
    }
    const candidates: Candidate[] = nodes.map((node) => ({ node, ready: ready(node) }));
    const byNode = new Map(nodes.map((n) => [n.ID, n]));
    const tasks = taskRecs.map((t) => t.value);
    const total = new Map<string, number>();
    for (const t of tasks) if (t.DesiredState === 'running' && t.NodeID) total.set(t.NodeID, (total.get(t.NodeID) ?? 0) + 1);
    const services = new Map(svcRecs.map((s) => [s.value.ID, s.value]));
    for (const svc of services.values()) {
      await this.reconcileService(svc, tasks.filter((t) => t.ServiceID === svc.ID), candidates, byNode, ready, total);
    }
    // Tasks of removed services: shut down, then forgotten once they ended (or their node is gone).
    for (const t of tasks) {
      if (services.has(t.ServiceID)) continue;
      if (isTerminal(t.Status.State) || !t.NodeID || !ready(byNode.get(t.NodeID))) await this.store.delete(`tasks/${t.ID}`);
      else if (wantsRun(t)) await this.setDesired(t, 'shutdown');
    }
    await this.pruneHistory(tasks, Number(clusterRec?.value.Spec.Orchestration?.TaskHistoryRetentionLimit ?? 5));
    await this.overlayPass(nodes);
  }

  private ingressMade = false;

  /** The ingress network (made once per swarm), each node's address on it, and leases of what is gone. */
  private async overlayPass(nodes: NodeRecord[]): Promise<void> {
    if (!this.ingressMade) {
      await ensureIngress(this.store);
      this.ingressMade = true;
    }
    // Fresh: tasks created in this pass hold leases too.
    const tasks = (await this.store.list<TaskRecord>('tasks/')).map((t) => t.value);
    await sweepLeases(this.store, nodes, tasks);
  }

  private async reconcileService(
    svc: ServiceRecord,
    tasks: TaskRecord[],
    candidates: Candidate[],
    byNode: Map<string, NodeRecord>,
    ready: (n: NodeRecord | undefined) => boolean,
    total: Map<string, number>,
  ): Promise<void> {
    if (isJob(svc.Spec)) return this.reconcileJob(svc, tasks, candidates, byNode, ready, total);
    const tmpl = svc.Spec.TaskTemplate ?? {};
    const global = !!svc.Spec.Mode?.Global;
    const constraints = ((tmpl.Placement?.Constraints ?? []) as string[]).map(parseConstraint);
    const restart = tmpl.RestartPolicy ?? {};
    const condition: string = restart.Condition ?? 'any';
    const delayMs = Number(restart.Delay ?? DEFAULT_RESTART_DELAY) / 1e6;
    const ofService = new Map<string, number>();
    const live = tasks.filter((t) => t.DesiredState === 'running');
    for (const t of live) if (t.NodeID) ofService.set(t.NodeID, (ofService.get(t.NodeID) ?? 0) + 1);
    const occupied: TaskRecord[] = [];
    for (const t of live) {
      const node = t.NodeID ? byNode.get(t.NodeID) : undefined;
      if (!t.NodeID) {
        occupied.push(t);
        continue;
      }
      const nodeGone = !ready(node) || node!.Spec.Availability === 'drain' || (global && !satisfies(node!, constraints));
      if (nodeGone) {
        await this.setDesired(t, 'shutdown');
        ofService.set(t.NodeID, (ofService.get(t.NodeID) ?? 1) - 1);
        total.set(t.NodeID, (total.get(t.NodeID) ?? 1) - 1);
        continue;
      }
      if (isTerminal(t.Status.State)) {
        const failed = t.Status.State !== 'complete';
        const again = condition === 'any' || (condition === 'on-failure' && failed);
        const attempts = Number(restart.MaxAttempts ?? 0);
        const tries = tasks.filter((x) => (global ? x.NodeID === t.NodeID : x.Slot === t.Slot) && isTerminal(x.Status.State)).length;
        if (!again || (attempts > 0 && tries > attempts)) {
          occupied.push(t);
          continue;
        }
        if (Date.now() - Date.parse(t.Status.Timestamp) < delayMs) {
          occupied.push(t);
          continue;
        }
        await this.setDesired(t, 'shutdown');
        ofService.set(t.NodeID, (ofService.get(t.NodeID) ?? 1) - 1);
        total.set(t.NodeID, (total.get(t.NodeID) ?? 1) - 1);
        continue;
      }
      occupied.push(t);
    }
    const upToDate = (t: TaskRecord) =>
      sameSpec(t.Endpoint, svc.Spec.EndpointSpec) && (sameSpec(t.Spec, tmpl) || onlyPlacementChanged(t.Spec, tmpl, t.NodeID ? byNode.get(t.NodeID) : undefined));
    const keyOf = (t: TaskRecord) => (global ? t.NodeID : String(t.Slot));
    // Stop first: a slot whose old task is still stopping (on a live node) waits for it.
    const stopping = new Set(tasks.filter((t) => t.DesiredState !== 'running' && !isTerminal(t.Status.State) && t.NodeID && ready(byNode.get(t.NodeID))).map(keyOf));
    const elig = eligibleNodes(tmpl, candidates);
    const { nodes: eligible, explain } = elig;
    const prefs = spreadPrefs(tmpl);
    const place = () => placeTask(tmpl, elig, ofService, total, prefs);
    const want = global ? eligible.length : Number(svc.Spec.Mode?.Replicated?.Replicas ?? 1);
    // Start first: an old task whose slot (node) has a running task of the new spec ends now.
    const runningNew = new Set(occupied.filter((t) => t.NodeID && upToDate(t) && t.Status.State === 'running').map(keyOf));
    for (const t of occupied.filter((x) => !upToDate(x) && runningNew.has(keyOf(x)))) {
      await this.setDesired(t, 'shutdown');
      occupied.splice(occupied.indexOf(t), 1);
      stopping.add(keyOf(t));
    }
    const startNew = async (old: TaskRecord) => {
      const p = global ? { node: byNode.get(old.NodeID), explain } : place();
      await this.createTask(svc, global ? undefined : old.Slot, p.node?.ID, p.explain, ofService, total);
    };
    const replaced = await this.updateStep(svc, tasks, occupied, upToDate, keyOf, stopping.size, want, startNew);
    for (const t of replaced) {
      occupied.splice(occupied.indexOf(t), 1);
      stopping.add(keyOf(t));
    }
    // Pending tasks get another chance at a node.
    for (const t of occupied.filter((x) => !x.NodeID)) {
      const { node, explain: why } = global ? { node: undefined, explain } : place();
      if (!node) {
        if (t.Status.Err !== why) await this.store.update<TaskRecord>(`tasks/${t.ID}`, (x) => (x.NodeID ? undefined : { ...x, Status: { ...x.Status, Err: why } }));
        continue;
      }
      const ok = await this.store.update<TaskRecord>(`tasks/${t.ID}`, (x) =>
        x.NodeID || x.DesiredState !== 'running' ? undefined : { ...x, NodeID: node.ID, Status: { Timestamp: now(), State: 'assigned', Message: 'scheduler assigned task to node' }, UpdatedAt: now() },
      );
      if (ok?.NodeID === node.ID) this.count(ofService, total, node.ID);
    }
    if (global) {
      const have = new Set(occupied.map((t) => t.NodeID));
      for (const n of eligible) if (!have.has(n.ID) && !stopping.has(n.ID)) await this.createTask(svc, undefined, n.ID, explain, ofService, total);
      return;
    }
    const replicas = Number(svc.Spec.Mode?.Replicated?.Replicas ?? 1);
    const bySlot = new Map<number, TaskRecord[]>();
    for (const t of occupied) bySlot.set(t.Slot ?? 0, [...(bySlot.get(t.Slot ?? 0) ?? []), t]);
    // Surplus slots (scaled down) end, highest first.
    for (const [slot, ts] of bySlot) {
      if (slot <= replicas) continue;
      for (const t of ts) await this.setDesired(t, 'shutdown');
      bySlot.delete(slot);
    }
    for (let slot = 1; slot <= replicas; slot++) {
      if (bySlot.has(slot) || stopping.has(String(slot))) continue;
      const p = place();
      await this.createTask(svc, slot, p.node?.ID, p.explain, ofService, total);
    }
  }

  /**
   * One step of a rolling update (or rollback): when the previous batch has
   * settled and the delay has passed, the next `Parallelism` tasks that run an
   * old spec are shut down (their slots then get tasks of the new spec). A
   * task of the new spec that fails triggers the failure action; no old tasks
   * left and nothing in flight completes the update. Returns the tasks shut down.
   */
  private async updateStep(
    svc: ServiceRecord,
    tasks: TaskRecord[],
    occupied: TaskRecord[],
    upToDate: (t: TaskRecord) => boolean,
    keyOf: (t: TaskRecord) => string,
    stoppingCount: number,
    want: number,
    startNew: (old: TaskRecord) => Promise<void>,
  ): Promise<TaskRecord[]> {
    const us = svc.UpdateStatus;
    if (us && (us.State === 'paused' || us.State === 'rollback_paused')) return [];
    const rollingBack = us?.State === 'rollback_started';
    const active = us?.State === 'updating' || rollingBack;
    const cfg = (rollingBack ? svc.Spec.RollbackConfig : svc.Spec.UpdateConfig) ?? {};
    if (active) {
      const since = Date.parse(us!.StartedAt);
      const failed = tasks.filter((t) => upToDate(t) && Date.parse(t.CreatedAt) >= since && (t.Status.State === 'failed' || t.Status.State === 'rejected'));
      const action = cfg.FailureAction ?? 'pause';
      if (failed.length > Number(cfg.MaxFailureRatio ?? 0) * Math.max(1, occupied.length) && action !== 'continue') {
        const id = failed[0]!.ID;
        this.batches.delete(svc.ID);
        if (action === 'rollback' && !rollingBack && svc.PreviousSpec) {
          await this.setService(svc.ID, (s) => ({
            ...s, Spec: s.PreviousSpec!, PreviousSpec: s.Spec,
            UpdateStatus: { State: 'rollback_started', StartedAt: now(), Message: `update rolled back due to failure or early termination of task ${id}` },
          }));
        } else {
          await this.setService(svc.ID, (s) => ({ ...s, UpdateStatus: { ...s.UpdateStatus!, State: rollingBack ? 'rollback_paused' : 'paused', Message: `update paused due to failure or early termination of task ${id}` } }));
        }
        return [];
      }
    }
    // A slot whose new task is already on its way (start-first) is not outdated any more.
    const replacing = new Set(occupied.filter((t) => upToDate(t) && !isTerminal(t.Status.State)).map(keyOf));
    const outdated = occupied.filter((t) => t.NodeID && !upToDate(t) && !replacing.has(keyOf(t)));
    const inFlight = stoppingCount + occupied.filter((t) => upToDate(t) && t.NodeID && !isTerminal(t.Status.State) && t.Status.State !== 'running').length;
    if (!outdated.length) {
      // Done when every slot (or eligible node) runs a task of the new spec.
      const runningNew = occupied.filter((t) => t.NodeID && upToDate(t) && t.Status.State === 'running').length;
      if (active && inFlight === 0 && runningNew >= want) {
        this.batches.delete(svc.ID);
        await this.setService(svc.ID, (s) => ({
          ...s,
          UpdateStatus: { ...s.UpdateStatus!, State: rollingBack ? 'rollback_completed' : 'completed', CompletedAt: now(), Message: rollingBack ? 'rollback completed' : 'update completed' },
        }));
      }
      return [];
    }
    const b = this.batches.get(svc.ID) ?? { inBatch: false };
    this.batches.set(svc.ID, b);
    if (inFlight > 0) return [];
    if (b.inBatch) {
      b.inBatch = false;
      b.doneAt = Date.now();
    }
    if (b.doneAt !== undefined && Date.now() - b.doneAt < Number(cfg.Delay ?? 0) / 1e6) return [];
    const n = Number(cfg.Parallelism ?? 1) === 0 ? outdated.length : Math.min(Number(cfg.Parallelism ?? 1), outdated.length);
    const batch = outdated.sort((x, y) => (x.Slot ?? 0) - (y.Slot ?? 0)).slice(0, n);
    b.inBatch = true;
    b.doneAt = undefined;
    if (cfg.Order === 'start-first') {
      // The new task starts beside the old one, which ends once the new one runs (see reconcileService).
      for (const t of batch) await startNew(t);
      return [];
    }
    for (const t of batch) await this.setDesired(t, 'shutdown');
    return batch;
  }

  private batches = new Map<string, { inBatch: boolean; doneAt?: number }>();

  /**
   * A job (swarmkit's jobs orchestrator): tasks of the current iteration run
   * to completion and are never restarted once complete; failed ones are
   * replaced by the restart policy. A replicated job keeps at most
   * MaxConcurrent tasks under way until TotalCompletions have completed, each
   * in its own slot 0..TotalCompletions-1; a global job runs once on every
   * eligible node. Tasks of earlier iterations still under way end.
   */
  private async reconcileJob(
    svc: ServiceRecord,
    tasks: TaskRecord[],
    candidates: Candidate[],
    byNode: Map<string, NodeRecord>,
    ready: (n: NodeRecord | undefined) => boolean,
    total: Map<string, number>,
  ): Promise<void> {
    const tmpl = svc.Spec.TaskTemplate ?? {};
    const global = !!svc.Spec.Mode?.GlobalJob;
    const iteration = Number(svc.JobStatus?.JobIteration?.Index ?? 0);
    const restart = tmpl.RestartPolicy ?? {};
    const delayMs = Number(restart.Delay ?? DEFAULT_RESTART_DELAY) / 1e6;
    const attempts = Number(restart.MaxAttempts ?? 0);
    const ofService = new Map<string, number>();
    const live: TaskRecord[] = [];
    for (const t of tasks) {
      if (!wantsRun(t)) continue;
      if (t.JobIteration?.Index !== iteration) {
        if (!isTerminal(t.Status.State)) await this.setDesired(t, 'shutdown');
        continue;
      }
      const node = t.NodeID ? byNode.get(t.NodeID) : undefined;
      if (t.NodeID && !isTerminal(t.Status.State) && (!ready(node) || node!.Spec.Availability === 'drain')) {
        await this.setDesired(t, 'shutdown');
        continue;
      }
      if (isTerminal(t.Status.State) && t.Status.State !== 'complete' && restart.Condition !== 'none') {
        const tries = tasks.filter((x) => x.JobIteration?.Index === iteration && (global ? x.NodeID === t.NodeID : x.Slot === t.Slot) && isTerminal(x.Status.State) && x.Status.State !== 'complete').length;
        if (!(attempts > 0 && tries > attempts) && Date.now() - Date.parse(t.Status.Timestamp) >= delayMs) {
          await this.setDesired(t, 'shutdown');
          continue;
        }
      }
      live.push(t);
      if (t.NodeID && !isTerminal(t.Status.State)) ofService.set(t.NodeID, (ofService.get(t.NodeID) ?? 0) + 1);
    }
    const elig = eligibleNodes(tmpl, candidates);
    const { nodes: eligible, explain } = elig;
    const job = { iteration };
    if (global) {
      const have = new Set(live.map((t) => t.NodeID));
      // All in one write: a client following the job (docker's CLI) counts the nodes from the first tasks it sees.
      const made: TaskRecord[] = [];
      for (const n of eligible) if (!have.has(n.ID)) made.push(await this.newTask(svc, undefined, n.ID, explain, job));
      if (await this.store.createAll(made.map((t) => [`tasks/${t.ID}`, t]))) for (const t of made) this.count(ofService, total, t.NodeID);
      return;
    }
    const prefs = spreadPrefs(tmpl);
    const place = () => placeTask(tmpl, elig, ofService, total, prefs);
    for (const t of live.filter((x) => !x.NodeID)) {
      const { node, explain: why } = place();
      if (!node) {
        if (t.Status.Err !== why) await this.store.update<TaskRecord>(`tasks/${t.ID}`, (x) => (x.NodeID ? undefined : { ...x, Status: { ...x.Status, Err: why } }));
        continue;
      }
      const ok = await this.store.update<TaskRecord>(`tasks/${t.ID}`, (x) =>
        x.NodeID || !wantsRun(x) ? undefined : { ...x, NodeID: node.ID, Status: { Timestamp: now(), State: 'assigned', Message: 'scheduler assigned task to node' }, UpdatedAt: now() },
      );
      if (ok?.NodeID === node.ID) this.count(ofService, total, node.ID);
    }
    const rj = svc.Spec.Mode.ReplicatedJob;
    const maxConcurrent = Number(rj.MaxConcurrent ?? 1);
    const completions = Number(rj.TotalCompletions ?? maxConcurrent);
    const completed = live.filter((t) => t.Status.State === 'complete').length;
    const active = live.length - completed;
    const n = Math.min(maxConcurrent - active, completions - completed - active);
    const used = new Set(live.map((t) => t.Slot ?? 0));
    for (let i = 0, slot = 0; i < n; i++) {
      while (used.has(slot)) slot++;
      used.add(slot);
      const p = place();
      await this.createTask(svc, slot, p.node?.ID, p.explain, ofService, total, job);
    }
  }

  private async setService(id: string, fn: (s: ServiceRecord) => ServiceRecord): Promise<void> {
    await this.store.update<ServiceRecord>(`services/${id}`, (s) => ({ ...fn(s), UpdatedAt: now() }));
  }

  private count(ofService: Map<string, number>, total: Map<string, number>, nodeId: string): void {
    ofService.set(nodeId, (ofService.get(nodeId) ?? 0) + 1);
    total.set(nodeId, (total.get(nodeId) ?? 0) + 1);
  }

  private async createTask(
    svc: ServiceRecord,
    slot: number | undefined,
    nodeId: string | undefined,
    explain: string,
    ofService: Map<string, number>,
    total: Map<string, number>,
    job?: { iteration: number },
  ): Promise<void> {
    const task = await this.newTask(svc, slot, nodeId, explain, job);
    await this.store.create(`tasks/${task.ID}`, task);
    if (nodeId) this.count(ofService, total, nodeId);
  }

  /** A new task of the service's current spec, with its overlay addresses (so its node never sees it without them). */
  private async newTask(svc: ServiceRecord, slot: number | undefined, nodeId: string | undefined, explain: string, job?: { iteration: number }): Promise<TaskRecord> {
    const t = now();
    const task: TaskRecord = {
      ID: newId(),
      Version: { Index: 0 },
      CreatedAt: t,
      UpdatedAt: t,
      Labels: {},
      Spec: svc.Spec.TaskTemplate ?? {},
      ServiceID: svc.ID,
      ...(slot !== undefined ? { Slot: slot } : {}),
      NodeID: nodeId ?? '',
      Status: nodeId
        ? { Timestamp: t, State: 'assigned', Message: 'scheduler assigned task to node' }
        : { Timestamp: t, State: 'pending', Message: 'pending task scheduling', Err: explain },
      // A job's task runs to completion (swarmkit's desired state Completed).
      DesiredState: job ? 'complete' : 'running',
      ...(job ? { JobIteration: { Index: job.iteration } } : {}),
      ServiceName: svc.Spec.Name,
      Endpoint: svc.Spec.EndpointSpec ?? {},
      ...(svc.RegistryAuth ? { RegistryAuth: svc.RegistryAuth } : {}),
    };
    const atts = await taskAttachments(this.store, svc, task.ID);
    if (atts.length) task.NetworksAttachments = atts;
    return task;
  }

  private async setDesired(t: TaskRecord, state: 'shutdown' | 'remove'): Promise<void> {
    t.DesiredState = state;
    await this.store.update<TaskRecord>(`tasks/${t.ID}`, (x) => (x.DesiredState === state ? undefined : { ...x, DesiredState: state, UpdatedAt: now() }));
  }

  /** Keeps at most `limit` tasks per slot (per node for global services), dropping the oldest ended ones. */
  private async pruneHistory(tasks: TaskRecord[], limit: number): Promise<void> {
    const groups = new Map<string, TaskRecord[]>();
    for (const t of tasks) {
      const k = `${t.ServiceID}/${t.Slot ?? t.NodeID}`;
      groups.set(k, [...(groups.get(k) ?? []), t]);
    }
    for (const ts of groups.values()) {
      if (ts.length <= limit) continue;
      const old = ts.filter((t) => t.DesiredState !== 'running' && isTerminal(t.Status.State)).sort((a, b) => Date.parse(a.CreatedAt) - Date.parse(b.CreatedAt));
      for (const t of old.slice(0, ts.length - Math.max(1, limit))) await this.store.delete(`tasks/${t.ID}`);
    }
  }
}
