// Applies variable substitution to every string value of a raw compose file, then converts
// the attributes whose type is not string back to numbers or booleans, as compose-go does.
import { ComposeError, type Dict } from '../types.js';
import { substitute, InvalidTemplateError, MissingRequiredError, type Lookup } from './template.js';
import { Override } from './yaml.js';

type Cast = (v: string, path: string) => unknown;

const toInt: Cast = (v, path) => {
  if (!/^[+-]?\d+$/.test(v.trim())) throw new ComposeError(`failed to cast to expected type: ${path}: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
};
const toFloat: Cast = (v, path) => {
  const n = Number(v);
  if (v.trim() === '' || Number.isNaN(n)) throw new ComposeError(`failed to cast to expected type: ${path}: strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`);
  return n;
};
const toBool: Cast = (v, path) => {
  const l = v.toLowerCase();
  if (['y', 'yes', 'true', 'on'].includes(l)) return true;
  if (['n', 'no', 'false', 'off'].includes(l)) return false;
  throw new ComposeError(`failed to cast to expected type: ${path}: invalid boolean: ${v}`);
};

// paths use `*` for any mapping key and `[]` for any sequence item
const CASTS: Array<[string, Cast]> = [
  ...['cpu_count', 'cpu_percent', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'mem_swappiness', 'oom_score_adj', 'pids_limit', 'scale', 'cpu_shares', 'healthcheck.retries', 'deploy.replicas', 'ulimits.*', 'ulimits.*.hard', 'ulimits.*.soft', 'secrets.[].mode', 'configs.[].mode', 'ports.[].target', 'blkio_config.weight'].map((p): [string, Cast] => [`services.*.${p}`, toInt]),
  ['services.*.cpus', toFloat],
  ...['privileged', 'read_only', 'stdin_open', 'tty', 'init', 'oom_kill_disable', 'healthcheck.disable', 'volumes.[].read_only', 'volumes.[].volume.nocopy', 'volumes.[].bind.create_host_path', 'depends_on.*.required', 'depends_on.*.restart', 'env_file.[].required', 'build.privileged', 'build.no_cache', 'build.pull'].map((p): [string, Cast] => [`services.*.${p}`, toBool]),
  ...['networks.*.external', 'networks.*.internal', 'networks.*.attachable', 'networks.*.enable_ipv6', 'volumes.*.external', 'secrets.*.external', 'configs.*.external'].map((p): [string, Cast] => [p, toBool]),
];

function castFor(path: string[]): Cast | undefined {
  for (const [pattern, cast] of CASTS) {
    const parts = pattern.split('.');
    if (parts.length !== path.length) continue;
    if (parts.every((p, i) => p === '*' ? path[i] !== '[]' : p === path[i])) return cast;
  }
  return undefined;
}

export function interpolate(tree: Dict, lookup: Lookup, onUnset?: (name: string) => void): Dict {
  return walk(tree, [], lookup, onUnset) as Dict;
}

function walk(v: unknown, path: string[], lookup: Lookup, onUnset?: (name: string) => void): unknown {
  if (typeof v === 'string') {
    let out: string;
    try {
      out = substitute(v, lookup, onUnset);
    } catch (e) {
      if (e instanceof InvalidTemplateError) {
        throw new ComposeError(`invalid interpolation format for ${path.join('.')}.\nYou may need to escape any $ with another $.\n${v}`);
      }
      if (e instanceof MissingRequiredError) throw new ComposeError(e.message);
      throw e;
    }
    const cast = castFor(path);
    return cast ? cast(out, path.join('.')) : out;
  }
  if (Array.isArray(v)) return v.map((x) => walk(x, [...path, '[]'], lookup, onUnset));
  if (v instanceof Override) return new Override(walk(v.value, path, lookup, onUnset));
  if (v && typeof v === 'object') {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, [...path, k], lookup, onUnset);
    return out;
  }
  return v;
}
