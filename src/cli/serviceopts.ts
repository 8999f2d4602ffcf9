// `service create` / `service update` flags → the Engine API's ServiceSpec, after docker/cli's service/opts.go.
import type { FlagSpec, ParsedFlags } from './flags.js';
import { StatusError } from './flags.js';
import { parseMount, parseNanoCpus } from './containeropts.js';
import { parseGoDuration, ramInBytes } from '../common/units.js';
import { kvMap } from './kvmap.js';

export const SERVICE_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'list', usage: 'Specify configurations to expose to the service' },
  { name: 'constraint', type: 'list', usage: 'Placement constraints' },
  { name: 'container-label', type: 'list', usage: 'Container labels' },
  { name: 'detach', short: 'd', type: 'bool', usage: 'Exit immediately instead of waiting for the service to converge' },
  { name: 'endpoint-mode', type: 'string', usage: 'Endpoint mode (vip or dnsrr)', def: 'vip' },
  { name: 'entrypoint', type: 'command', usage: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables' },
  { name: 'health-cmd', type: 'string', usage: 'Command to run to check health' },
  { name: 'health-interval', type: 'duration', usage: 'Time between running the check (ms|s|m|h)' },
  { name: 'health-retries', type: 'int', usage: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-interval', type: 'duration', usage: 'Time between running the check during the start period (ms|s|m|h)' },
  { name: 'health-start-period', type: 'duration', usage: 'Start period for the container to initialize before counting retries towards unstable (ms|s|m|h)' },
  { name: 'health-timeout', type: 'duration', usage: 'Maximum time to allow one check to run (ms|s|m|h)' },
  { name: 'hostname', type: 'string', usage: 'Container hostname' },
  { name: 'init', type: 'bool', usage: 'Use an init inside each service container to forward signals and reap processes' },
  { name: 'label', short: 'l', type: 'list', usage: 'Service labels' },
  { name: 'limit-cpu', type: 'decimal', usage: 'Limit CPUs' },
  { name: 'limit-memory', type: 'bytes', usage: 'Limit Memory', def: '0' },
  { name: 'limit-pids', type: 'int64', usage: 'Limit maximum number of processes (default 0 = unlimited)' },
  { name: 'max-concurrent', type: 'uint', usage: 'Number of job tasks to run concurrently (default equal to --replicas)' },
  { name: 'mode', type: 'string', usage: 'Service mode ("replicated", "global", "replicated-job", "global-job")', def: 'replicated' },
  { name: 'mount', type: 'mount', usage: 'Attach a filesystem mount to the service' },
  { name: 'name', type: 'string', usage: 'Service name' },
  { name: 'network', type: 'network', usage: 'Network attachments' },
  { name: 'no-healthcheck', type: 'bool', usage: 'Disable any container-specified HEALTHCHECK' },
  { name: 'placement-pref', type: 'list', usage: 'Add a placement preference' },
  { name: 'publish', short: 'p', type: 'port', usage: 'Publish a port as a node port' },
  { name: 'with-registry-auth', type: 'bool', usage: 'Send registry authentication details to swarm agents' },
  { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress progress output' },
  { name: 'read-only', type: 'bool', usage: "Mount the container's root filesystem as read only" },
  { name: 'replicas', type: 'uint', usage: 'Number of tasks' },
  { name: 'replicas-max-per-node', type: 'uint64', usage: 'Maximum number of tasks per node (default 0 = unlimited)' },
  { name: 'reserve-cpu', type: 'decimal', usage: 'Reserve CPUs' },
  { name: 'reserve-memory', type: 'bytes', usage: 'Reserve Memory', def: '0' },
  { name: 'secret', type: 'list', usage: 'Specify secrets to expose to the service' },
  { name: 'restart-condition', type: 'string', usage: 'Restart when condition is met ("none", "on-failure", "any") (default "any")' },
  { name: 'restart-delay', type: 'duration', usage: 'Delay between restart attempts (ns|us|ms|s|m|h) (default 5s)' },
  { name: 'restart-max-attempts', type: 'uint', usage: 'Maximum number of restarts before giving up' },
  { name: 'restart-window', type: 'duration', usage: 'Window used to evaluate the restart policy (ns|us|ms|s|m|h)' },
  { name: 'rollback-delay', type: 'duration', usage: 'Delay between task rollbacks (ns|us|ms|s|m|h) (default 0s)' },
  { name: 'rollback-failure-action', type: 'string', usage: 'Action on rollback failure ("pause", "continue") (default "pause")' },
  { name: 'rollback-max-failure-ratio', type: 'float', usage: 'Failure rate to tolerate during a rollback (default 0)' },
  { name: 'rollback-monitor', type: 'duration', usage: 'Duration after each task rollback to monitor for failure (ns|us|ms|s|m|h) (default 5s)' },
  { name: 'rollback-order', type: 'string', usage: 'Rollback order ("start-first", "stop-first") (default "stop-first")' },
  { name: 'rollback-parallelism', type: 'uint64', usage: 'Maximum number of tasks rolled back simultaneously (0 to roll back all at once)', def: '1' },
  { name: 'stop-grace-period', type: 'duration', usage: 'Time to wait before force killing a container (ns|us|ms|s|m|h) (default 10s)' },
  { name: 'stop-signal', type: 'string', usage: 'Signal to stop the container' },
  { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
  { name: 'update-delay', type: 'duration', usage: 'Delay between updates (ns|us|ms|s|m|h) (default 0s)' },
  { name: 'update-failure-action', type: 'string', usage: 'Action on update failure ("pause", "continue", "rollback") (default "pause")' },
  { name: 'update-max-failure-ratio', type: 'float', usage: 'Failure rate to tolerate during an update (default 0)' },
  { name: 'update-monitor', type: 'duration', usage: 'Duration after each task update to monitor for failure (ns|us|ms|s|m|h) (default 5s)' },
  { name: 'update-order', type: 'string', usage: 'Update order ("start-first", "stop-first") (default "stop-first")' },
  { name: 'update-parallelism', type: 'uint64', usage: 'Maximum number of tasks updated simultaneously (0 to update all at once)', def: '1' },
  { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
];

const bad = (msg: string): never => {
  throw new StatusError(msg, 125);
};

export function duration(flags: ParsedFlags, name: string): number {
  try {
    return Math.round(parseGoDuration(flags.string(name)) * 1e6);
  } catch (e) {
    return bad(`invalid argument "${flags.string(name)}" for "--${name}" flag: ${(e as Error).message}`);
  }
}

function bytes(flags: ParsedFlags, name: string): number {
  try {
    return ramInBytes(flags.string(name));
  } catch (e) {
    return bad(`invalid argument "${flags.string(name)}" for "--${name}" flag: ${(e as Error).message}`);
  }
}

/** `-p 8080:80[/udp]` or `-p published=8080,target=80,protocol=udp,mode=host`. */
export function parsePublish(v: string): Record<string, unknown> {
  if (v.includes('=')) {
    const p: Record<string, unknown> = { Protocol: 'tcp', PublishMode: 'ingress' };
    for (const f of v.split(',')) {
      const [k, val = ''] = f.split('=', 2) as [string, string?];
      switch (k.toLowerCase()) {
        case 'published':
          p.PublishedPort = Number(val);
          break;
        case 'target':
          p.TargetPort = Number(val);
          break;
        case 'protocol':
          p.Protocol = val;
          break;
        case 'mode':
          if (val !== 'host' && val !== 'ingress') bad(`invalid argument "${v}" for "-p, --publish" flag: invalid publish mode value (${val}): must be either "ingress" or "host"`);
          p.PublishMode = val;
          break;
        default:
          bad(`invalid argument "${v}" for "-p, --publish" flag: invalid field key: ${k}`);
      }
    }
    if (!p.TargetPort) bad(`invalid argument "${v}" for "-p, --publish" flag: missing mandatory field "target"`);
    return p;
  }
  const m = /^(?:(\d+):)?(\d+)(?:\/(tcp|udp|sctp))?$/.exec(v);
  if (!m) return bad(`invalid argument "${v}" for "-p, --publish" flag: invalid port format: ${v}`);
  return { Protocol: m[3] ?? 'tcp', TargetPort: Number(m[2]), ...(m[1] ? { PublishedPort: Number(m[1]) } : {}), PublishMode: 'ingress' };
}

/** The ServiceSpec `service create` sends. */
export function buildServiceSpec(flags: ParsedFlags, args: string[]): Record<string, any> {
  const [image, ...cmd] = args;
  const mode = flags.string('mode');
  if (!['replicated', 'global', 'replicated-job', 'global-job'].includes(mode)) bad(`invalid argument "${mode}" for "--mode" flag: invalid mode`);
  // docker/cli's ToServiceMode.
  if (flags.changed('replicas') && (mode === 'global' || mode === 'global-job')) throw new StatusError('replicas can only be used with replicated or replicated-job mode', 1);
  if (flags.int('replicas-max-per-node') > 0 && (mode === 'global' || mode === 'global-job')) throw new StatusError('replicas-max-per-node can only be used with replicated or replicated-job mode', 1);
  if (flags.changed('max-concurrent') && mode !== 'replicated-job') throw new StatusError('max-concurrent can only be used with replicated-job mode', 1);
  const job = mode.endsWith('-job');
  const replicas = flags.changed('replicas') ? flags.int('replicas') : undefined;
  const serviceMode =
    mode === 'global' ? { Global: {} }
    : mode === 'global-job' ? { GlobalJob: {} }
    : mode === 'replicated-job' ? { ReplicatedJob: { MaxConcurrent: flags.changed('max-concurrent') ? flags.int('max-concurrent') : replicas, TotalCompletions: replicas } }
    : { Replicated: { Replicas: replicas ?? 1 } };
  const rollout = ['parallelism', 'delay', 'monitor', 'failure-action', 'max-failure-ratio', 'order'].some((k) => flags.changed(`update-${k}`) || flags.changed(`rollback-${k}`));
  if (job && rollout) throw new StatusError('update and rollback configuration is not supported for jobs', 1);
  const cs: Record<string, any> = {
    Image: image,
    ...(cmd.length ? { Args: cmd } : {}),
    ...(flags.changed('entrypoint') ? { Command: flags.string('entrypoint').split(/\s+/).filter(Boolean) } : {}),
    Labels: kvMap(flags.list('container-label')),
    Env: flags.list('env'),
    ...(flags.string('hostname') ? { Hostname: flags.string('hostname') } : {}),
    ...(flags.string('workdir') ? { Dir: flags.string('workdir') } : {}),
    ...(flags.string('user') ? { User: flags.string('user') } : {}),
    ...(flags.bool('tty') ? { TTY: true } : {}),
    ...(flags.bool('read-only') ? { ReadOnly: true } : {}),
    ...(flags.changed('init') ? { Init: flags.bool('init') } : {}),
    ...(flags.string('stop-signal') ? { StopSignal: flags.string('stop-signal') } : {}),
    ...(flags.changed('stop-grace-period') ? { StopGracePeriod: duration(flags, 'stop-grace-period') } : {}),
    ...(flags.list('secret').length ? { Secrets: flags.list('secret').map((v) => parseSecretRef('secret', v)) } : {}),
    ...(flags.list('config').length ? { Configs: flags.list('config').map((v) => parseSecretRef('config', v)) } : {}),
    Mounts: flags.list('mount').map((m) => {
      try {
        return parseMount(m);
      } catch (e) {
        return bad((e as Error).message);
      }
    }),
  };
  const hc = healthcheck(undefined, flags);
  if (hc) cs.Healthcheck = hc;
  const cpus = (name: string) => {
    try {
      return parseNanoCpus(flags.string(name));
    } catch (e) {
      return bad(`invalid argument "${flags.string(name)}" for "--${name}" flag: ${(e as Error).message}`);
    }
  };
  const restart: Record<string, any> = {};
  if (flags.changed('restart-condition')) {
    const c = flags.string('restart-condition');
    if (!['none', 'on-failure', 'any'].includes(c)) bad(`invalid argument "${c}" for "--restart-condition" flag: invalid restart condition`);
    restart.Condition = c;
  }
  if (flags.changed('restart-delay')) restart.Delay = duration(flags, 'restart-delay');
  if (flags.changed('restart-max-attempts')) restart.MaxAttempts = flags.int('restart-max-attempts');
  if (flags.changed('restart-window')) restart.Window = duration(flags, 'restart-window');
  const update = (prefix: 'update' | 'rollback') => {
    const u: Record<string, any> = { Parallelism: flags.int(`${prefix}-parallelism`) };
    if (flags.changed(`${prefix}-delay`)) u.Delay = duration(flags, `${prefix}-delay`);
    if (flags.changed(`${prefix}-monitor`)) u.Monitor = duration(flags, `${prefix}-monitor`);
    if (flags.changed(`${prefix}-failure-action`)) {
      const a = flags.string(`${prefix}-failure-action`);
      const allowed = prefix === 'update' ? ['pause', 'continue', 'rollback'] : ['pause', 'continue'];
      if (!allowed.includes(a)) bad(`invalid argument "${a}" for "--${prefix}-failure-action" flag: invalid value`);
      u.FailureAction = a;
    }
    if (flags.changed(`${prefix}-max-failure-ratio`)) u.MaxFailureRatio = Number(flags.string(`${prefix}-max-failure-ratio`));
    if (flags.changed(`${prefix}-order`)) u.Order = flags.string(`${prefix}-order`);
    return u;
  };
  const prefs = flags.list('placement-pref').map((p) => parsePlacementPref(p, 'placement-pref'));
  const spec: Record<string, any> = {
    ...(flags.string('name') ? { Name: flags.string('name') } : {}),
    Labels: kvMap(flags.list('label')),
    TaskTemplate: {
      ContainerSpec: cs,
      Resources: {
        Limits: {
          ...(flags.string('limit-cpu') ? { NanoCPUs: cpus('limit-cpu') } : {}),
          ...(flags.changed('limit-memory') ? { MemoryBytes: bytes(flags, 'limit-memory') } : {}),
          ...(flags.changed('limit-pids') ? { Pids: flags.int('limit-pids') } : {}),
        },
        Reservations: {
          ...(flags.string('reserve-cpu') ? { NanoCPUs: cpus('reserve-cpu') } : {}),
          ...(flags.changed('reserve-memory') ? { MemoryBytes: bytes(flags, 'reserve-memory') } : {}),
        },
      },
      ...(Object.keys(restart).length ? { RestartPolicy: restart } : {}),
      Placement: {
        ...(flags.list('constraint').length ? { Constraints: flags.list('constraint') } : {}),
        ...(prefs.length ? { Preferences: prefs } : {}),
        ...(flags.int('replicas-max-per-node') > 0 ? { MaxReplicas: flags.int('replicas-max-per-node') } : {}),
      },
      ...(flags.list('network').length ? { Networks: flags.list('network').map((n) => ({ Target: n })) } : {}),
      ForceUpdate: 0,
    },
    Mode: serviceMode,
    ...(job ? {} : { UpdateConfig: update('update'), RollbackConfig: update('rollback') }),
    EndpointSpec: { Mode: flags.string('endpoint-mode') || 'vip', Ports: flags.list('publish').map(parsePublish) },
  };
  return spec;
}

/** Flags `service create` and `service update` share (docker adds the -add/-rm variants for update). */
const COMMON = new Set([
  'with-registry-auth', 'detach', 'quiet', 'endpoint-mode', 'entrypoint', 'health-cmd', 'health-interval', 'health-retries', 'health-start-interval', 'health-start-period', 'health-timeout', 'hostname', 'init',
  'max-concurrent', 'replicas-max-per-node',
  'limit-cpu', 'limit-memory', 'limit-pids', 'no-healthcheck', 'read-only', 'replicas', 'reserve-cpu', 'reserve-memory', 'restart-condition', 'restart-delay',
  'restart-max-attempts', 'restart-window', 'rollback-delay', 'rollback-failure-action', 'rollback-max-failure-ratio', 'rollback-monitor', 'rollback-order',
  'rollback-parallelism', 'stop-grace-period', 'stop-signal', 'tty', 'update-delay', 'update-failure-action', 'update-max-failure-ratio', 'update-monitor',
  'update-order', 'update-parallelism', 'user', 'workdir',
]);

export const SERVICE_UPDATE_FLAGS: FlagSpec[] = [
  ...SERVICE_FLAGS.filter((f) => COMMON.has(f.name)).map((f) => (f.name.endsWith('-parallelism') ? { ...f, def: undefined } : f)),
  { name: 'args', type: 'command', usage: 'Service command args' },
  { name: 'config-add', type: 'list', usage: 'Add or update a config file on a service' },
  { name: 'config-rm', type: 'list', usage: 'Remove a configuration file' },
  { name: 'constraint-add', type: 'list', usage: 'Add or update a placement constraint' },
  { name: 'constraint-rm', type: 'list', usage: 'Remove a constraint' },
  { name: 'container-label-add', type: 'list', usage: 'Add or update a container label' },
  { name: 'container-label-rm', type: 'list', usage: 'Remove a container label by its key' },
  { name: 'env-add', type: 'list', usage: 'Add or update an environment variable' },
  { name: 'env-rm', type: 'list', usage: 'Remove an environment variable' },
  { name: 'force', type: 'bool', usage: 'Force update even if no changes require it' },
  { name: 'image', type: 'string', usage: 'Service image tag' },
  { name: 'label-add', type: 'list', usage: 'Add or update a service label' },
  { name: 'label-rm', type: 'list', usage: 'Remove a label by its key' },
  { name: 'mount-add', type: 'mount', usage: 'Add or update a mount on a service' },
  { name: 'mount-rm', type: 'list', usage: 'Remove a mount by its target path' },
  { name: 'placement-pref-add', type: 'list', usage: 'Add a placement preference' },
  { name: 'placement-pref-rm', type: 'list', usage: 'Remove a placement preference' },
  { name: 'publish-add', type: 'port', usage: 'Add or update a published port' },
  { name: 'publish-rm', type: 'list', usage: 'Remove a published port by its target port' },
  { name: 'rollback', type: 'bool', usage: 'Rollback to previous specification' },
  { name: 'secret-add', type: 'list', usage: 'Add or update a secret on a service' },
  { name: 'secret-rm', type: 'list', usage: 'Remove a secret' },
].sort((a, b) => (a.name < b.name ? -1 : 1));

/** `spread=node.labels.zone` as a PlacementPreference (docker accepts only spread). */
function parsePlacementPref(p: string, flag: string): { Spread: { SpreadDescriptor: string } } {
  const m = /^spread=(.+)$/.exec(p);
  if (!m) bad(`invalid argument "${p}" for "--${flag}" flag: unsupported placement preference (only spread is supported)`);
  return { Spread: { SpreadDescriptor: m![1]! } };
}

/** docker/cli's updateService: the flags that were given change the spec in place. */
export function applyServiceUpdate(spec: Record<string, any>, flags: ParsedFlags): void {
  const tt = (spec.TaskTemplate ??= {});
  const cs = (tt.ContainerSpec ??= {});
  const set = (name: string, fn: () => void) => {
    if (flags.changed(name)) fn();
  };
  set('image', () => (cs.Image = flags.string('image')));
  set('args', () => (cs.Args = flags.list('args').flatMap((a) => a.split(/\s+/)).filter(Boolean)));
  set('entrypoint', () => (cs.Command = flags.string('entrypoint').split(/\s+/).filter(Boolean)));
  set('hostname', () => (cs.Hostname = flags.string('hostname')));
  set('workdir', () => (cs.Dir = flags.string('workdir')));
  set('user', () => (cs.User = flags.string('user')));
  set('tty', () => (cs.TTY = flags.bool('tty')));
  set('read-only', () => (cs.ReadOnly = flags.bool('read-only')));
  set('init', () => (cs.Init = flags.bool('init')));
  set('stop-signal', () => (cs.StopSignal = flags.string('stop-signal')));
  set('stop-grace-period', () => (cs.StopGracePeriod = duration(flags, 'stop-grace-period')));
  const env = new Map<string, string>((cs.Env ?? []).map((e: string) => [e.split('=')[0]!, e]));
  for (const k of flags.list('env-rm')) env.delete(k.split('=')[0]!);
  for (const e of flags.list('env-add')) env.set(e.split('=')[0]!, e);
  cs.Env = [...env.values()];
  const labels = (obj: Record<string, string>, add: string, rm: string) => {
    for (const k of flags.list(rm)) delete obj[k];
    Object.assign(obj, kvMap(flags.list(add)));
    return obj;
  };
  spec.Labels = labels(spec.Labels ?? {}, 'label-add', 'label-rm');
  cs.Labels = labels(cs.Labels ?? {}, 'container-label-add', 'container-label-rm');
  const constraints = new Set<string>(tt.Placement?.Constraints ?? []);
  for (const c of flags.list('constraint-rm')) constraints.delete(c);
  for (const c of flags.list('constraint-add')) constraints.add(c);
  tt.Placement = { ...(tt.Placement ?? {}), Constraints: [...constraints] };
  if (flags.changed('placement-pref-rm') || flags.changed('placement-pref-add')) {
    const rm = new Set(flags.list('placement-pref-rm').map((p) => parsePlacementPref(p, 'placement-pref-rm').Spread.SpreadDescriptor));
    const prefs = ((tt.Placement.Preferences ?? []) as any[]).filter((p) => !rm.has(p.Spread?.SpreadDescriptor));
    prefs.push(...flags.list('placement-pref-add').map((p) => parsePlacementPref(p, 'placement-pref-add')));
    tt.Placement.Preferences = prefs;
  }
  set('replicas-max-per-node', () => (tt.Placement.MaxReplicas = flags.int('replicas-max-per-node')));
  let mounts: any[] = (cs.Mounts ?? []).filter((m: any) => !flags.list('mount-rm').includes(m.Target));
  for (const m of flags.list('mount-add')) {
    const parsed = parseMount(m);
    mounts = [...mounts.filter((x) => x.Target !== parsed.Target), parsed];
  }
  cs.Mounts = mounts;
  for (const [kind, field, nameKey] of [['secret', 'Secrets', 'SecretName'], ['config', 'Configs', 'ConfigName']] as const) {
    let refs: any[] = (cs[field] ?? []).filter((r: any) => !flags.list(`${kind}-rm`).includes(r[nameKey]));
    for (const v of flags.list(`${kind}-add`)) {
      const r = parseSecretRef(kind, v);
      refs = [...refs.filter((x) => x.File?.Name !== r.File.Name), r];
    }
    cs[field] = refs;
  }
  const ep = (spec.EndpointSpec ??= { Mode: 'vip' });
  let ports: any[] = (ep.Ports ?? []).filter((p: any) => !flags.list('publish-rm').some((r) => String(p.TargetPort) === r.split('/')[0]!.split(':').pop()));
  for (const p of flags.list('publish-add').map(parsePublish)) ports = [...ports.filter((x) => x.TargetPort !== p.TargetPort || x.Protocol !== p.Protocol), p];
  ep.Ports = ports;
  set('endpoint-mode', () => (ep.Mode = flags.string('endpoint-mode')));
  set('replicas', () => {
    if (spec.Mode?.Replicated) spec.Mode.Replicated.Replicas = flags.int('replicas');
    else if (spec.Mode?.ReplicatedJob) spec.Mode.ReplicatedJob.TotalCompletions = flags.int('replicas');
    else throw new StatusError('replicas can only be used with replicated or replicated-job mode', 1);
  });
  set('max-concurrent', () => {
    if (!spec.Mode?.ReplicatedJob) throw new StatusError('max-concurrent can only be used with replicated-job mode', 1);
    spec.Mode.ReplicatedJob.MaxConcurrent = flags.int('max-concurrent');
  });
  const hc = healthcheck(cs.Healthcheck, flags);
  if (hc) cs.Healthcheck = hc;
  const res = (tt.Resources ??= {});
  const lim = (res.Limits ??= {});
  const rsv = (res.Reservations ??= {});
  set('limit-cpu', () => (lim.NanoCPUs = parseNanoCpus(flags.string('limit-cpu'))));
  set('limit-memory', () => (lim.MemoryBytes = bytes(flags, 'limit-memory')));
  set('limit-pids', () => (lim.Pids = flags.int('limit-pids')));
  set('reserve-cpu', () => (rsv.NanoCPUs = parseNanoCpus(flags.string('reserve-cpu'))));
  set('reserve-memory', () => (rsv.MemoryBytes = bytes(flags, 'reserve-memory')));
  const rp = (tt.RestartPolicy ??= {});
  set('restart-condition', () => (rp.Condition = flags.string('restart-condition')));
  set('restart-delay', () => (rp.Delay = duration(flags, 'restart-delay')));
  set('restart-max-attempts', () => (rp.MaxAttempts = flags.int('restart-max-attempts')));
  set('restart-window', () => (rp.Window = duration(flags, 'restart-window')));
  for (const [prefix, key] of [['update', 'UpdateConfig'], ['rollback', 'RollbackConfig']] as const) {
    const flagsOf = ['parallelism', 'delay', 'monitor', 'failure-action', 'max-failure-ratio', 'order'].map((k) => `${prefix}-${k}`);
    if (!flagsOf.some((f) => flags.changed(f))) continue;
    if (spec.Mode?.ReplicatedJob || spec.Mode?.GlobalJob) throw new StatusError('update and rollback configuration is not supported for jobs', 1);
    const u = (spec[key] ??= {});
    set(`${prefix}-parallelism`, () => (u.Parallelism = flags.int(`${prefix}-parallelism`)));
    set(`${prefix}-delay`, () => (u.Delay = duration(flags, `${prefix}-delay`)));
    set(`${prefix}-monitor`, () => (u.Monitor = duration(flags, `${prefix}-monitor`)));
    set(`${prefix}-failure-action`, () => {
      const a = flags.string(`${prefix}-failure-action`);
      const allowed = prefix === 'update' ? ['pause', 'continue', 'rollback'] : ['pause', 'continue'];
      if (!allowed.includes(a)) bad(`invalid argument "${a}" for "--${prefix}-failure-action" flag: invalid value`);
      u.FailureAction = a;
    });
    set(`${prefix}-max-failure-ratio`, () => (u.MaxFailureRatio = Number(flags.string(`${prefix}-max-failure-ratio`))));
    set(`${prefix}-order`, () => (u.Order = flags.string(`${prefix}-order`)));
  }
  if (flags.bool('force')) tt.ForceUpdate = Number(tt.ForceUpdate ?? 0) + 1;
}

const HEALTH_FLAGS = ['health-cmd', 'health-interval', 'health-retries', 'health-timeout', 'health-start-period', 'health-start-interval'];

/**
 * The health check the `--health-*` / `--no-healthcheck` flags make of `cur` (docker/cli's
 * toHealthConfig and updateHealthcheck), or undefined when none of them was given.
 */
function healthcheck(cur: Record<string, any> | undefined, flags: ParsedFlags): Record<string, any> | undefined {
  const changed = HEALTH_FLAGS.some((f) => flags.changed(f));
  if (flags.bool('no-healthcheck')) {
    if (changed) throw new StatusError('--no-healthcheck conflicts with --health-* options', 1);
    return { Test: ['NONE'] };
  }
  if (!changed) return undefined;
  const hc: Record<string, any> = { ...(cur ?? {}) };
  if (hc.Test?.[0] === 'NONE') delete hc.Test;
  if (flags.changed('health-cmd')) {
    if (flags.string('health-cmd')) hc.Test = ['CMD-SHELL', flags.string('health-cmd')];
    else delete hc.Test;
  }
  if (flags.changed('health-interval')) hc.Interval = duration(flags, 'health-interval');
  if (flags.changed('health-timeout')) hc.Timeout = duration(flags, 'health-timeout');
  if (flags.changed('health-start-period')) hc.StartPeriod = duration(flags, 'health-start-period');
  if (flags.changed('health-start-interval')) hc.StartInterval = duration(flags, 'health-start-interval');
  if (flags.changed('health-retries')) hc.Retries = flags.int('health-retries');
  return hc;
}

/** `--secret name` or `--secret source=name,target=t,uid=0,gid=0,mode=0444` (the same for `--config`). */
export function parseSecretRef(kind: 'secret' | 'config', v: string): Record<string, any> {
  const o: Record<string, string> = {};
  if (!v.includes('=')) o.source = v;
  else {
    for (const f of v.split(',')) {
      const i = f.indexOf('=');
      const k = f.slice(0, i).toLowerCase();
      if (!['source', 'src', 'target', 'uid', 'gid', 'mode'].includes(k)) bad(`invalid argument "${v}" for "--${kind}" flag: invalid field '${f.slice(0, i)}' must be a key=value pair`);
      o[k === 'src' ? 'source' : k] = f.slice(i + 1);
    }
  }
  if (!o.source) bad(`invalid argument "${v}" for "--${kind}" flag: source is required`);
  const mode = o.mode ? parseInt(o.mode, 8) : 0o444;
  const file = { Name: o.target || o.source, UID: o.uid ?? '0', GID: o.gid ?? '0', Mode: mode };
  return kind === 'secret' ? { File: file, SecretName: o.source } : { File: file, ConfigName: o.source };
}

/** Fills in the IDs of referenced secrets/configs by name, as docker/cli's ParseSecrets does. */
export async function resolveRefs(client: { get: (p: string, q?: Record<string, any>) => Promise<any> }, kind: 'secret' | 'config', refs: Array<Record<string, any>>): Promise<void> {
  if (!refs.length) return;
  const nameKey = kind === 'secret' ? 'SecretName' : 'ConfigName';
  const idKey = kind === 'secret' ? 'SecretID' : 'ConfigID';
  const names = refs.map((r) => String(r[nameKey]));
  const list: any[] = await client.get(kind === 'secret' ? '/secrets' : '/configs', { filters: JSON.stringify({ name: Object.fromEntries(names.map((n) => [n, true])) }) });
  for (const r of refs) {
    const found = list.find((x) => x.Spec.Name === r[nameKey]) ?? list.find((x) => x.ID === r[nameKey]);
    if (!found) throw new StatusError(`${kind} not found: ${r[nameKey]}`, 1);
    r[idKey] = found.ID;
    r[nameKey] = found.Spec.Name;
  }
}
