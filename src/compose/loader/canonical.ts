// Rewrites one file's short syntaxes to their long forms before files are merged, so that
// merging compares like with like (ports by ip/target/published/protocol, volumes by target).
import { ComposeError, type Dict } from '../types.js';
import { canonicalPorts } from './ports.js';
import { canonicalVolumes } from './volumes.js';
import { splitShellWords } from './shellwords.js';
import { Override, RESET } from './yaml.js';

type Fn = (v: unknown, service: string) => unknown;

function toStr(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : String(v);
}

/** `["A=1", "B"]` or `{A: 1}` → `{A: "1", B: null}` (B is resolved later from the environment) */
export function listOrDict(v: unknown, bare: null | ''): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const eq = s.indexOf('=');
      if (eq < 0) out[s] = bare;
      else out[s.slice(0, eq)] = s.slice(eq + 1);
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) out[k] = x === RESET ? (x as never) : toStr(x);
  }
  return out;
}

const shell: Fn = (v) => (typeof v === 'string' ? splitShellWords(v) : v);

const SERVICE: Record<string, Fn> = {
  ports: (v) => canonicalPorts(v as unknown[]),
  expose: (v) => (v as unknown[]).map(String),
  volumes: (v) => canonicalVolumes(v as unknown[]),
  environment: (v) => listOrDict(v, null),
  labels: (v) => listOrDict(v, ''),
  annotations: (v) => listOrDict(v, ''),
  sysctls: (v) => listOrDict(v, ''),
  command: shell,
  entrypoint: shell,
  depends_on: (v) => {
    if (!Array.isArray(v)) {
      const out: Dict = {};
      for (const [k, d] of Object.entries(v as Dict)) {
        const dd = d as Dict;
        out[k] = { condition: dd.condition ?? 'service_started', ...(dd.restart !== undefined ? { restart: dd.restart } : {}), required: dd.required ?? true };
      }
      return out;
    }
    return Object.fromEntries(v.map((s) => [String(s), { condition: 'service_started', required: true }]));
  },
  build: (v) => {
    const b: Dict = typeof v === 'string' ? { context: v } : { ...(v as Dict) };
    if (b.args !== undefined) b.args = listOrDict(b.args, null);
    if (b.labels !== undefined) b.labels = listOrDict(b.labels, '');
    return b;
  },
  env_file: (v) => {
    const list = Array.isArray(v) ? v : [v];
    return list.map((e) => (typeof e === 'string' ? { path: e, required: true } : { required: true, ...(e as Dict) }));
  },
  secrets: (v) => (v as unknown[]).map((s) => (typeof s === 'string' ? { source: s } : s)),
  configs: (v) => (v as unknown[]).map((s) => (typeof s === 'string' ? { source: s } : s)),
  networks: (v) => (Array.isArray(v) ? Object.fromEntries(v.map((n) => [String(n), null])) : v),
  healthcheck: (v) => {
    const h = { ...(v as Dict) };
    if (typeof h.test === 'string') h.test = ['CMD-SHELL', h.test];
    return h;
  },
  extends: (v) => (typeof v === 'string' ? { service: v } : v),
};

function apply(fn: Fn, v: unknown, service: string): unknown {
  if (v === RESET || v === null || v === undefined) return v;
  if (v instanceof Override) return new Override(apply(fn, v.value, service));
  return fn(v, service);
}

export function canonicalService(name: string, svc: unknown): Dict {
  if (svc === null || svc === undefined) return {};
  if (typeof svc !== 'object' || Array.isArray(svc)) throw new ComposeError(`service ${name} must be a mapping`);
  const out: Dict = {};
  for (const [k, v] of Object.entries(svc as Dict)) out[k] = SERVICE[k] ? apply(SERVICE[k], v, name) : v;
  return out;
}

export function canonicalFile(model: Dict): Dict {
  const out = { ...model };
  const services = model.services;
  if (services && typeof services === 'object' && !(services instanceof Override)) {
    const s: Dict = {};
    for (const [n, v] of Object.entries(services as Dict)) s[n] = v instanceof Override ? new Override(canonicalService(n, v.value)) : v === RESET ? v : canonicalService(n, v);
    out.services = s;
  }
  return out;
}
