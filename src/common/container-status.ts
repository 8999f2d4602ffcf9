// The human "Status" column of `docker ps` (dockerd's container State.String),
// shared by the daemon (which fills Status in GET /containers/json) and CLI.

import { humanDuration } from './units.js';

export interface ContainerStatusInput {
  /** Engine API State.Status: created, running, paused, restarting, removing, exited, dead. */
  status: string;
  exitCode: number;
  startedAt?: string;
  finishedAt?: string;
  /** Health.Status: starting, healthy, unhealthy; none/empty means no healthcheck. */
  health?: string;
}

function isZeroTime(t: string | undefined): boolean {
  if (!t) return true;
  const ms = Date.parse(t);
  // Go's zero time is 0001-01-01T00:00:00Z.
  return Number.isNaN(ms) || t.startsWith('0001-01-01');
}

function since(t: string | undefined, now: Date): string {
  return humanDuration(now.getTime() - (t ? Date.parse(t) : 0));
}

export function containerStatusText(s: ContainerStatusInput, now: Date): string {
  const running = s.status === 'running' || s.status === 'paused' || s.status === 'restarting';
  if (running) {
    if (s.status === 'paused') return `Up ${since(s.startedAt, now)} (Paused)`;
    if (s.status === 'restarting') return `Restarting (${s.exitCode}) ${since(s.finishedAt, now)} ago`;
    if (s.health && s.health !== 'none') {
      const h = s.health === 'starting' ? 'health: starting' : s.health;
      return `Up ${since(s.startedAt, now)} (${h})`;
    }
    return `Up ${since(s.startedAt, now)}`;
  }
  if (s.status === 'removing') return 'Removal In Progress';
  if (s.status === 'dead') return 'Dead';
  if (isZeroTime(s.startedAt)) return 'Created';
  if (isZeroTime(s.finishedAt)) return '';
  return `Exited (${s.exitCode}) ${since(s.finishedAt, now)} ago`;
}
