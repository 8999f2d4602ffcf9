import { errorMessage } from '../errors.js';
import type { HealthConfig } from '../system/container-config.js';
import type { HealthResult, HealthState } from '../stores/container-store.js';
import type { ContainerService, LifecycleHooks } from './container-service.js';
import type { ExecService } from './exec-service.js';
import { formatGoDuration } from '../../common/units.js';

// dockerd's defaults and limits (daemon/health.go).
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_START_PERIOD_MS = 0;
const DEFAULT_START_INTERVAL_MS = 5_000;
const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT = 4096;

/** One running monitor; `stopped` makes a late probe result count for nothing. */
interface Monitor {
  stopped: boolean;
  timer?: NodeJS.Timeout;
  abort: AbortController;
}

/** The command a probe runs, or undefined when the container has no (runnable) health check. */
export function probeCommand(hc: HealthConfig | null | undefined, shell: string[] | null | undefined): string[] | undefined {
  const test = hc?.Test;
  if (!test || test.length === 0) return undefined;
  if (test[0] === 'CMD' && test.length > 1) return test.slice(1);
  if (test[0] === 'CMD-SHELL' && test.length > 1) return [...(shell && shell.length ? shell : ['/bin/sh', '-c']), ...test.slice(1)];
  return undefined; // NONE, or a type dockerd ignores too
}

const orDefault = (ns: number | undefined, defMs: number) => (ns ? ns / 1e6 : defMs);

/**
 * Applies one probe result to a container's health, as dockerd does: a success
 * makes it healthy; failures count towards `Retries`, except while it is still
 * starting within its start period. Returns whether the status changed.
 */
export function applyResult(h: HealthState, r: HealthResult, hc: HealthConfig, startedAt: string): boolean {
  const old = h.Status;
  h.Log = [...h.Log, r].slice(-MAX_LOG_ENTRIES);
  if (r.ExitCode === 0) {
    h.FailingStreak = 0;
    h.Status = 'healthy';
  } else {
    const startPeriod = orDefault(hc.StartPeriod, DEFAULT_START_PERIOD_MS);
    const inStartPeriod = h.Status === 'starting' && Date.parse(r.Start) - Date.parse(startedAt) < startPeriod;
    if (!inStartPeriod) {
      h.FailingStreak++;
      if (h.FailingStreak >= ((hc.Retries ?? 0) > 0 ? hc.Retries! : DEFAULT_RETRIES)) h.Status = 'unhealthy';
    }
  }
  return h.Status !== old;
}

/** Delay before the next probe: the start interval while starting inside the start period (moby's rule). */
export function nextDelay(hc: HealthConfig, startedAt: string, status: string, now = Date.now()): number {
  const interval = orDefault(hc.Interval, DEFAULT_INTERVAL_MS);
  const startInterval = orDefault(hc.StartInterval, DEFAULT_START_INTERVAL_MS);
  const startPeriod = orDefault(hc.StartPeriod, DEFAULT_START_PERIOD_MS);
  const elapsed = now - Date.parse(startedAt);
  if (elapsed >= startPeriod) return interval;
  const remaining = startPeriod - elapsed;
  if (remaining < interval) return remaining;
  return status === 'starting' ? startInterval : interval;
}

/**
 * Runs each running container's health check through the exec machinery
 * (dockerd's health monitor): one timer per container, stopped on exit and
 * pause, started again on start, unpause and after a berthd restart.
 */
export class HealthService implements LifecycleHooks {
  private monitors = new Map<string, Monitor>();

  constructor(
    private containers: ContainerService,
    private execs: ExecService,
    private log: (level: string, msg: string) => void,
  ) {}

  /** A (re)started or re-adopted container: status back to starting, streak reset, log kept (dockerd's initHealthMonitor). */
  started(id: string): void {
    const c = this.containers.get(id);
    if (!probeCommand(c.rec.config.Healthcheck, c.rec.config.Shell)) return;
    this.stopped(id);
    const h = c.rec.state.Health;
    c.rec.state.Health = { Status: 'starting', FailingStreak: 0, Log: h?.Log ?? [] };
    this.update(id);
  }

  restored(id: string): void {
    this.started(id);
  }

  paused(id: string): void {
    this.stopped(id);
  }

  unpaused(id: string): void {
    this.update(id);
  }

  stopped(id: string): void {
    const m = this.monitors.get(id);
    if (!m) return;
    m.stopped = true;
    if (m.timer) clearTimeout(m.timer);
    m.abort.abort();
    this.monitors.delete(id);
  }

  shutdown(): void {
    for (const id of [...this.monitors.keys()]) this.stopped(id);
  }

  /** Starts the monitor when the container runs, unpaused, with a health state and a probe. */
  private update(id: string): void {
    const c = this.containers.get(id);
    const want = c.status === 'running' && !!c.rec.state.Health && !!probeCommand(c.rec.config.Healthcheck, c.rec.config.Shell);
    if (!want) {
      this.stopped(id);
      return;
    }
    if (this.monitors.has(id)) return;
    const m: Monitor = { stopped: false, abort: new AbortController() };
    this.monitors.set(id, m);
    this.schedule(id, m);
  }

  private schedule(id: string, m: Monitor): void {
    if (m.stopped) return;
    const c = this.containers.get(id);
    const delay = nextDelay(c.rec.config.Healthcheck ?? {}, c.rec.state.StartedAt, c.rec.state.Health?.Status ?? 'starting');
    m.timer = setTimeout(() => void this.probe(id, m), delay);
    m.timer.unref();
  }

  private async probe(id: string, m: Monitor): Promise<void> {
    if (m.stopped) return;
    let c;
    try {
      c = this.containers.get(id);
    } catch {
      this.stopped(id);
      return;
    }
    const hc = c.rec.config.Healthcheck ?? {};
    const cmd = probeCommand(hc, c.rec.config.Shell);
    if (!cmd) return;
    const timeoutMs = orDefault(hc.Timeout, DEFAULT_TIMEOUT_MS);
    const start = new Date().toISOString();
    let result: HealthResult;
    try {
      const r = await this.execs.runCaptured(id, cmd, { timeoutMs, maxOutput: MAX_OUTPUT, signal: m.abort.signal });
      const end = new Date().toISOString();
      if (r.timedOut) {
        const d = formatGoDuration(timeoutMs);
        const out = r.output;
        result = { Start: start, End: end, ExitCode: -1, Output: out ? `Health check exceeded timeout (${d}): ${out}` : `Health check exceeded timeout (${d})` };
      } else {
        result = { Start: start, End: end, ExitCode: r.exitCode, Output: r.output };
      }
    } catch (e) {
      result = { Start: start, End: new Date().toISOString(), ExitCode: -1, Output: errorMessage(e) };
      this.log('warn', `Health check for container ${id} error: ${result.Output}`);
    }
    if (m.stopped || !this.containers.has(id)) return;
    const h = c.rec.state.Health;
    if (!h) return;
    if (applyResult(h, result, hc, c.rec.state.StartedAt)) {
      // Written on a status change (dockerd writes health only along with other state changes; a
      // status change is what `compose --wait` and restart-surviving inspect care about).
      void this.containers
        .withLock(id, () => this.containers.saveRecord(id))
        .catch((e) => this.log('warn', `saving health of ${id}: ${errorMessage(e)}`));
      this.containers.emitContainerEvent(id, `health_status: ${h.Status}`);
    }
    this.schedule(id, m);
  }
}
