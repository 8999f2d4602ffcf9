// The model `compose config` prints: compose-go's field order for services (its struct order)
// and sorted keys for maps (Go marshals maps sorted), as YAML or JSON.
import { createRequire } from 'node:module';

// loaded on demand: most commands never print YAML
const requireHere = createRequire(import.meta.url);
import type { Dict, Project } from './types.js';

const SERVICE_ORDER = [
  'profiles', 'annotations', 'attach', 'build', 'develop', 'blkio_config', 'cap_add', 'cap_drop', 'cgroup', 'cgroup_parent',
  'command', 'configs', 'container_name', 'cpu_count', 'cpu_percent', 'cpu_period', 'cpu_quota', 'cpu_rt_period',
  'cpu_rt_runtime', 'cpus', 'cpuset', 'cpu_shares', 'credential_spec', 'depends_on', 'deploy', 'device_cgroup_rules',
  'devices', 'dns', 'dns_opt', 'dns_search', 'dockerfile', 'domainname', 'entrypoint', 'provider', 'environment', 'env_file',
  'expose', 'extends', 'external_links', 'extra_hosts', 'gpus', 'group_add', 'hostname', 'healthcheck', 'image', 'init',
  'ipc', 'isolation', 'labels', 'label_file', 'links', 'logging', 'log_driver', 'log_opt', 'mac_address', 'mem_limit',
  'mem_reservation', 'mem_swappiness', 'memswap_limit', 'network_mode', 'networks', 'oom_kill_disable', 'oom_score_adj',
  'pid', 'pids_limit', 'platform', 'ports', 'privileged', 'pull_policy', 'read_only', 'restart', 'runtime', 'scale',
  'secrets', 'security_opt', 'shm_size', 'stdin_open', 'stop_grace_period', 'stop_signal', 'storage_opt', 'sysctls',
  'tmpfs', 'tty', 'ulimits', 'use_api_socket', 'user', 'userns_mode', 'uts', 'volumes', 'volumes_from', 'working_dir',
  'post_start', 'pre_stop',
];
const MAP_ATTRS = new Set(['annotations', 'depends_on', 'environment', 'labels', 'networks', 'sysctls', 'ulimits', 'storage_opt', 'log_opt']);
const BUILD_ORDER = ['context', 'dockerfile', 'dockerfile_inline', 'entitlements', 'args', 'ssh', 'labels', 'cache_from', 'cache_to', 'no_cache', 'additional_contexts', 'network', 'pull', 'target', 'shm_size', 'extra_hosts', 'isolation', 'privileged', 'secrets', 'tags', 'ulimits', 'platforms'];

function sorted(d: Dict): Dict {
  const out: Dict = {};
  for (const k of Object.keys(d).sort()) out[k] = d[k];
  return out;
}

function ordered(d: Dict, order: string[]): Dict {
  const out: Dict = {};
  for (const k of order) if (d[k] !== undefined) out[k] = d[k];
  // extensions and attributes we do not list come last, sorted
  for (const k of Object.keys(d).filter((k) => !(k in out)).sort()) if (d[k] !== undefined) out[k] = d[k];
  return out;
}

function service(s: Dict): Dict {
  const d: Dict = { ...s };
  for (const k of MAP_ATTRS) if (d[k] && typeof d[k] === 'object' && !Array.isArray(d[k])) d[k] = sorted(d[k] as Dict);
  if (d.build && typeof d.build === 'object') {
    const b = ordered(d.build as Dict, BUILD_ORDER);
    if (b.args) b.args = sorted(b.args as Dict);
    if (b.labels) b.labels = sorted(b.labels as Dict);
    d.build = b;
  }
  return ordered(d, SERVICE_ORDER);
}

function resources(items: Record<string, Dict>): Dict {
  const out: Dict = {};
  for (const k of Object.keys(items).sort()) out[k] = ordered(items[k], ['name', 'driver', 'driver_opts', 'ipam', 'file', 'environment', 'content', 'external', 'internal', 'attachable', 'labels', 'enable_ipv4', 'enable_ipv6']);
  return out;
}

export function toConfigModel(p: Project): Dict {
  const out: Dict = { name: p.name };
  const services: Dict = {};
  for (const n of Object.keys(p.services).sort()) services[n] = service(p.services[n]);
  out.services = services;
  if (Object.keys(p.networks).length) out.networks = resources(p.networks);
  if (Object.keys(p.volumes).length) out.volumes = resources(p.volumes);
  if (Object.keys(p.secrets).length) out.secrets = resources(p.secrets);
  if (Object.keys(p.configs).length) out.configs = resources(p.configs);
  for (const k of Object.keys(p.extensions).sort()) out[k] = p.extensions[k];
  return out;
}

/**
 * Doubles every `$` in string values: compose prints a model that can be loaded again, so a
 * literal dollar must not read as a variable the second time.
 */
export function escapeDollars(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$/g, '$$$$');
  if (Array.isArray(v)) return v.map(escapeDollars);
  if (v && typeof v === 'object') {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) out[k] = escapeDollars(x);
    return out;
  }
  return v;
}

export function renderConfigYaml(model: Dict): string {
  const { stringify } = requireHere('yaml') as typeof import('yaml');
  return stringify(model, { indent: 2, lineWidth: 0, aliasDuplicateObjects: false, nullStr: 'null' });
}

export function renderConfigJson(model: Dict): string {
  return JSON.stringify(model, null, 2) + '\n';
}
