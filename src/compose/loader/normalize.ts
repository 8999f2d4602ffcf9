// Turns the merged canonical model into what `compose config` prints: env_file read into
// environment, bare environment names resolved, default network added, resource names set.
import { readFileSync, existsSync } from 'node:fs';
import { ComposeError, type Dict, type ServiceConfig } from '../types.js';
import { parseDotEnv } from './dotenv.js';
import type { Lookup } from './template.js';

function readEnvFile(path: string, format: string | undefined, lookup: Lookup): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  return format === 'raw' ? parseRaw(text) : parseDotEnv(text, lookup, path);
}

/** `format: raw`: NAME=VALUE lines taken literally, no quotes, escapes or expansion */
function parseRaw(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return out;
}

export function serviceEnvironment(name: string, svc: Dict, lookup: Lookup): Record<string, string | null> | undefined {
  const files = svc.env_file as Array<{ path: string; required?: boolean; format?: string }> | undefined;
  const own = svc.environment as Record<string, string | null> | undefined;
  if (!files?.length && !own) return undefined;
  const env: Record<string, string | null> = {};
  for (const f of files ?? []) {
    const vars = readEnvFile(f.path, f.format, lookup);
    if (!vars) {
      if (f.required === false) continue;
      throw new ComposeError(`env file ${f.path} not found: stat ${f.path}: no such file or directory`);
    }
    Object.assign(env, vars);
  }
  for (const [k, v] of Object.entries(own ?? {})) {
    // a bare NAME takes the value the loader's environment has, or stays unset
    env[k] = v === null ? lookup(k) ?? env[k] ?? null : v;
  }
  void name;
  return env;
}

/** links, `network_mode: service:x` and `volumes_from: x` need x started first, as depends_on */
function implicitDependencies(svc: ServiceConfig): void {
  const names: string[] = [];
  for (const l of (svc.links as string[] | undefined) ?? []) names.push(l.split(':')[0]);
  if (typeof svc.network_mode === 'string' && svc.network_mode.startsWith('service:')) names.push(svc.network_mode.slice(8));
  for (const v of (svc.volumes_from as string[] | undefined) ?? []) if (!v.startsWith('container:')) names.push(v.split(':')[0]);
  if (names.length === 0) return;
  const deps = { ...(svc.depends_on ?? {}) };
  for (const n of names) deps[n] ??= { condition: 'service_started', restart: true, required: true };
  svc.depends_on = deps;
}

function named(items: Dict | undefined, project: string): Record<string, Dict> {
  const out: Record<string, Dict> = {};
  for (const [k, v] of Object.entries(items ?? {})) {
    const d: Dict = { ...((v as Dict | null) ?? {}) };
    const ext = d.external;
    const externalName = ext && typeof ext === 'object' ? (ext as Dict).name : undefined;
    const name = (d.name as string | undefined) ?? (externalName as string | undefined) ?? (ext ? k : `${project}_${k}`);
    if (ext && typeof ext === 'object') d.external = true;
    delete d.name;
    out[k] = { name, ...d };
  }
  return out;
}

export interface Normalized {
  services: Record<string, ServiceConfig>;
  networks: Record<string, Dict>;
  volumes: Record<string, Dict>;
  secrets: Record<string, Dict>;
  configs: Record<string, Dict>;
}

export function normalizeModel(model: Dict, project: string, lookup: Lookup): Normalized {
  const services: Record<string, ServiceConfig> = {};
  let usesDefault = false;
  for (const [name, raw] of Object.entries((model.services as Dict | undefined) ?? {})) {
    const svc: ServiceConfig = { ...((raw as Dict | null) ?? {}) };
    const env = serviceEnvironment(name, svc, lookup);
    if (env) svc.environment = env;
    const build = svc.build ? { ...(svc.build as Dict) } : undefined;
    if (build) svc.build = build;
    if (build && build.dockerfile === undefined && build.dockerfile_inline === undefined) build.dockerfile = 'Dockerfile';
    if (build?.args) {
      // a bare build arg takes its value from the environment, like a bare environment entry
      const args = { ...(build.args as Record<string, string | null>) };
      for (const [k, v] of Object.entries(args)) if (v === null) args[k] = lookup(k) ?? null;
      build.args = args;
    }
    implicitDependencies(svc);
    if (svc.network_mode === undefined && svc.networks === undefined) svc.networks = { default: null };
    if (svc.networks && 'default' in (svc.networks as Dict)) usesDefault = true;
    services[name] = svc;
  }
  const networks = { ...((model.networks as Dict | undefined) ?? {}) };
  if (usesDefault && !('default' in networks)) networks.default = null;
  return {
    services,
    networks: named(networks, project),
    volumes: named(model.volumes as Dict | undefined, project),
    secrets: named(model.secrets as Dict | undefined, project),
    configs: named(model.configs as Dict | undefined, project),
  };
}
