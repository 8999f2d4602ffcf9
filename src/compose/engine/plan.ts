// Convergence: from the containers a service has to the containers it should have. Pure, so
// the recreate/scale decisions compose makes are unit-tested without an engine.
import { LABEL } from './names.js';

export interface Observed {
  id: string;
  name: string;
  number: number;
  state: string;
  labels: Record<string, string>;
}

export type RecreatePolicy = 'diverged' | 'force' | 'never';

export interface ServicePlan {
  /** container numbers to create */
  create: number[];
  /** containers to replace by a new one with the same number */
  recreate: Observed[];
  /** existing containers to keep (started if not running) */
  keep: Observed[];
  /** surplus containers (scale down), highest numbers first */
  remove: Observed[];
}

/** the `/containers/json` item as compose reads it */
export function observe(c: { Id: string; Names?: string[]; State?: string; Labels?: Record<string, string> }): Observed {
  const labels = c.Labels ?? {};
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
    number: Number(labels[LABEL.number] ?? 0),
    state: c.State ?? '',
    labels,
  };
}

export function diverged(c: Observed, hash: string, imageId?: string): boolean {
  if (c.labels[LABEL.configHash] !== hash) return true;
  // a rebuilt or re-pulled image changes the containers too
  return !!imageId && !!c.labels[LABEL.image] && c.labels[LABEL.image] !== imageId;
}

export function planService(observed: Observed[], scale: number, hash: string, policy: RecreatePolicy, imageId?: string): ServicePlan {
  const sorted = [...observed].sort((a, b) => a.number - b.number);
  const kept = sorted.slice(0, scale);
  const remove = sorted.slice(scale).reverse();
  const plan: ServicePlan = { create: [], recreate: [], keep: [], remove };
  for (const c of kept) {
    const change = policy === 'force' || (policy === 'diverged' && diverged(c, hash, imageId));
    (change ? plan.recreate : plan.keep).push(c);
  }
  // new containers take the lowest free numbers, so scaling down and up again keeps 1..n
  const used = new Set(kept.map((c) => c.number));
  for (let i = kept.length; i < scale; i++) {
    let n = 1;
    while (used.has(n)) n++;
    used.add(n);
    plan.create.push(n);
  }
  return plan;
}

/** the scale a service runs at: `--scale`, then `scale:`, then `deploy.replicas`, else 1 */
export function serviceScale(svc: Record<string, unknown>, override?: number): number {
  if (override !== undefined) return override;
  if (svc.scale !== undefined) return Number(svc.scale);
  const r = (svc.deploy as { replicas?: unknown } | undefined)?.replicas;
  return r !== undefined ? Number(r) : 1;
}
