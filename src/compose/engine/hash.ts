// The config hash written to `com.docker.compose.config-hash`: a digest of everything in a
// service that ends up in its containers, so `up` recreates exactly the changed services.
import { createHash } from 'node:crypto';
import type { ServiceConfig } from '../types.js';

/** attributes that never reach a container (compose leaves them out of its hash too) */
const NOT_HASHED = new Set(['build', 'pull_policy', 'scale', 'depends_on', 'profiles', 'develop']);

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

export function serviceHash(svc: ServiceConfig, extra: Record<string, unknown> = {}): string {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(svc)) if (!NOT_HASHED.has(k)) copy[k] = v;
  if (copy.deploy && typeof copy.deploy === 'object') {
    // scaling is not a change of the containers themselves
    const d = { ...(copy.deploy as Record<string, unknown>) };
    delete d.replicas;
    copy.deploy = d;
  }
  return createHash('sha256').update(JSON.stringify(canonical({ ...copy, ...extra }))).digest('hex');
}
