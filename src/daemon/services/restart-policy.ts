/**
 * Docker's restart manager rules: whether a container that just exited is
 * restarted, and after how long. The delay starts at 100ms and doubles on each
 * restart, back to 100ms once a run lasted 10s or more, capped at a minute.
 */
export interface Policy {
  Name?: string;
  MaximumRetryCount?: number;
}

const BASE_MS = 100;
const MAX_MS = 60_000;
const RESET_AFTER_MS = 10_000;

export class RestartPolicy {
  private delays = new Map<string, number>();

  /** Delay in ms before restarting, or undefined when the policy says no. */
  next(policy: Policy | undefined, s: { exitCode: number; manuallyStopped: boolean; restartCount: number; ranMs: number; key: string }): number | undefined {
    const name = policy?.Name || 'no';
    if (s.manuallyStopped) return undefined;
    let restart = false;
    if (name === 'always' || name === 'unless-stopped') restart = true;
    else if (name === 'on-failure') {
      const max = policy?.MaximumRetryCount ?? 0;
      restart = s.exitCode !== 0 && (max === 0 || s.restartCount < max);
    }
    if (!restart) {
      this.delays.delete(s.key);
      return undefined;
    }
    let d = this.delays.get(s.key);
    d = d === undefined || s.ranMs >= RESET_AFTER_MS ? BASE_MS : Math.min(d * 2, MAX_MS);
    this.delays.set(s.key, d);
    return d;
  }
}
