// Resolves the relative paths of a canonical model against a directory: build contexts, bind
// mount sources, env_file paths, secret and config files. Absolute paths are left alone, so
// running it twice (include, then the project) is harmless.
import { homedir } from 'node:os';
import { isAbsolute, resolve, join } from 'node:path';
import type { Dict } from '../types.js';
import { Override } from './yaml.js';

export function isRemoteContext(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('git@') || s.startsWith('github.com/');
}

export function absPath(dir: string, p: string): string {
  if (p === '~' || p.startsWith('~/')) return join(homedir(), p.slice(1));
  return isAbsolute(p) ? p : resolve(dir, p);
}

function unwrap(v: unknown): unknown {
  return v instanceof Override ? v.value : v;
}

export function resolveServicePaths(svc: Dict, dir: string): void {
  const build = unwrap(svc.build) as Dict | undefined;
  if (build && typeof build === 'object' && typeof build.context === 'string' && !isRemoteContext(build.context)) {
    build.context = absPath(dir, build.context);
  }
  const vols = unwrap(svc.volumes);
  if (Array.isArray(vols)) {
    for (const v of vols as Dict[]) {
      if (v && v.type === 'bind' && typeof v.source === 'string') v.source = absPath(dir, v.source);
    }
  }
  const envFiles = unwrap(svc.env_file);
  if (Array.isArray(envFiles)) for (const e of envFiles as Dict[]) if (e && typeof e.path === 'string') e.path = absPath(dir, e.path);
  const ext = unwrap(svc.extends) as Dict | undefined;
  if (ext && typeof ext.file === 'string') ext.file = absPath(dir, ext.file);
}

export function resolveModelPaths(model: Dict, dir: string): void {
  const services = unwrap(model.services);
  if (services && typeof services === 'object') {
    for (const s of Object.values(services as Dict)) {
      const svc = unwrap(s);
      if (svc && typeof svc === 'object') resolveServicePaths(svc as Dict, dir);
    }
  }
  for (const top of ['secrets', 'configs']) {
    const items = unwrap(model[top]);
    if (!items || typeof items !== 'object') continue;
    for (const it of Object.values(items as Dict)) {
      const d = unwrap(it) as Dict | undefined;
      if (d && typeof d.file === 'string') d.file = absPath(dir, d.file);
    }
  }
}
