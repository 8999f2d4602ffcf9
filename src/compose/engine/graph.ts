// Dependency order over `depends_on`: which services to handle together, first to last for
// creation and start, last to first for stop and removal.
import { ComposeError, type Project } from '../types.js';

/** the named services plus everything they depend on (all services when none are named) */
export function withDependencies(p: Project, names: string[], includeDeps = true): string[] {
  if (names.length === 0) return Object.keys(p.services).sort();
  const keep = new Set<string>();
  const add = (n: string): void => {
    if (keep.has(n)) return;
    if (!(n in p.services)) throw new ComposeError(`no such service: ${n}`);
    keep.add(n);
    if (!includeDeps) return;
    for (const [d, dep] of Object.entries(p.services[n].depends_on ?? {})) {
      if (d in p.services) add(d);
      else if (dep.required !== false) throw new ComposeError(`service ${JSON.stringify(n)} depends on undefined service ${JSON.stringify(d)}: invalid compose project`);
    }
  };
  names.forEach(add);
  return [...keep].sort();
}

/** services grouped in levels: every service comes after all its dependencies */
export function dependencyLevels(p: Project, services: string[]): string[][] {
  const set = new Set(services);
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (n: string): number => {
    const known = level.get(n);
    if (known !== undefined) return known;
    if (visiting.has(n)) throw new ComposeError(`dependency cycle detected: ${[...visiting, n].join(' -> ')}`);
    visiting.add(n);
    let d = 0;
    for (const dep of Object.keys(p.services[n]?.depends_on ?? {})) if (set.has(dep)) d = Math.max(d, depth(dep) + 1);
    visiting.delete(n);
    level.set(n, d);
    return d;
  };
  const out: string[][] = [];
  for (const n of [...services].sort()) {
    const d = depth(n);
    (out[d] ??= []).push(n);
  }
  return out.filter(Boolean);
}

/** services that depend on `name` within `services` (to stop them first) */
export function dependents(p: Project, name: string, services: string[]): string[] {
  return services.filter((s) => name in (p.services[s]?.depends_on ?? {}));
}
