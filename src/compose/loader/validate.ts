// Checks the schema cannot express: references between services and to top-level
// resources, and dependency cycles. Messages follow compose-go's.
import { ComposeError, type Dict, type ServiceConfig } from '../types.js';
import type { Normalized } from './normalize.js';

const invalid = (msg: string): ComposeError => new ComposeError(`${msg}: invalid compose project`);

export function validateProject(p: Normalized): void {
  for (const [name, svc] of Object.entries(p.services)) {
    if (svc.image === undefined && svc.build === undefined) {
      throw invalid(`service ${JSON.stringify(name)} has neither an image nor a build context specified`);
    }
    for (const dep of Object.keys(svc.depends_on ?? {})) {
      if (!(dep in p.services)) throw invalid(`service ${JSON.stringify(name)} depends on undefined service ${JSON.stringify(dep)}`);
    }
    for (const net of Object.keys((svc.networks as Dict | undefined) ?? {})) {
      if (!(net in p.networks)) throw invalid(`service ${JSON.stringify(name)} refers to undefined network ${net}`);
    }
    for (const v of (svc.volumes as Dict[] | undefined) ?? []) {
      if (v.type === 'volume' && typeof v.source === 'string' && v.source !== '' && !(v.source in p.volumes)) {
        throw invalid(`service ${JSON.stringify(name)} refers to undefined volume ${v.source}`);
      }
    }
    for (const kind of ['secrets', 'configs'] as const) {
      for (const r of (svc[kind] as Dict[] | undefined) ?? []) {
        if (!(String(r.source) in p[kind])) throw invalid(`service ${JSON.stringify(name)} refers to undefined ${kind.slice(0, -1)} ${String(r.source)}`);
      }
    }
  }
  checkCycles(p.services);
}

function checkCycles(services: Record<string, ServiceConfig>): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new ComposeError(`dependency cycle detected: ${cycle.join(' -> ')}`);
    }
    state.set(name, 'visiting');
    for (const dep of Object.keys(services[name]?.depends_on ?? {}).sort()) if (dep in services) visit(dep, [...path, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(services).sort()) visit(name, []);
}
