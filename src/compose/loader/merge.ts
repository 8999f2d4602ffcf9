// Merges a later compose file into an earlier one by the spec's rules: mappings deep-merged,
// sequences appended, some sequences keyed or de-duplicated, commands replaced, and the
// `!reset` / `!override` tags honoured. Both sides are in canonical (long) form.
import type { Dict } from '../types.js';
import { Override, RESET } from './yaml.js';

type Key = (item: unknown) => string;

const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const KEYED: Record<string, Key> = {
  ports: (p) => { const d = p as Dict; return `${d.host_ip ?? ''}:${d.published ?? ''}:${d.target}/${d.protocol ?? 'tcp'}`; },
  volumes: (v) => str((v as Dict).target),
  secrets: (s) => str((s as Dict).target ?? (s as Dict).source),
  configs: (s) => str((s as Dict).target ?? (s as Dict).source),
  env_file: (e) => str((e as Dict).path),
};
const UNION = new Set(['expose', 'dns', 'dns_search', 'dns_opt', 'tmpfs', 'cap_add', 'cap_drop', 'security_opt', 'profiles', 'group_add', 'external_links', 'links', 'volumes_from', 'devices', 'device_cgroup_rules', 'extra_hosts']);
const REPLACE = new Set(['command', 'entrypoint']);

/** drops `!reset` entries and unwraps `!override` in a value taken as is */
export function strip(v: unknown): unknown {
  if (v instanceof Override) return strip(v.value);
  if (Array.isArray(v)) return v.filter((x) => x !== RESET).map(strip);
  if (v && typeof v === 'object') {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) if (x !== RESET) out[k] = strip(x);
    return out;
  }
  return v;
}

function isMap(v: unknown): v is Dict {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Override);
}

/** `path` is the attribute path with service names replaced by `*`, e.g. services.*.ports */
export function mergeValue(base: unknown, over: unknown, path: string[]): unknown {
  if (over instanceof Override) return strip(over.value);
  if (base === undefined || base === null) return strip(over);
  const attr = path.length === 3 && path[0] === 'services' ? path[2] : '';
  const isTest = path.length === 4 && path[0] === 'services' && path[2] === 'healthcheck' && path[3] === 'test';
  if (Array.isArray(base) && Array.isArray(over)) {
    const add = over.filter((x) => x !== RESET).map(strip);
    if (REPLACE.has(attr) || isTest) return add;
    if (KEYED[attr]) {
      const key = KEYED[attr];
      const out = [...base];
      for (const item of add) {
        const i = out.findIndex((x) => key(x) === key(item));
        if (i >= 0) out[i] = mergeValue(out[i], item, [...path, '[]']);
        else out.push(item);
      }
      return out;
    }
    if (UNION.has(attr)) {
      const seen = new Set(base.map(str));
      const out = [...base];
      for (const item of add) if (!seen.has(str(item))) { seen.add(str(item)); out.push(item); }
      return out;
    }
    return [...base, ...add];
  }
  if (isMap(base) && isMap(over)) {
    const out: Dict = { ...base };
    for (const [k, v] of Object.entries(over)) {
      if (v === RESET) {
        delete out[k];
        continue;
      }
      const sub = path.length === 1 ? [...path, '*'] : [...path, k];
      out[k] = mergeValue(out[k], v, sub);
    }
    return out;
  }
  return strip(over);
}

export function mergeModels(base: Dict, over: Dict): Dict {
  return mergeValue(base, over, []) as Dict;
}
