// berth service inspect
import type { Command } from '../command.js';
import { enc, FORMAT_USAGE_JSON } from '../batch.js';
import { StatusError } from '../flags.js';
import { formatGoDuration } from '../../common/units.js';
import { inspectAll } from './inspect.js';

const dur = (ns: number | undefined) => formatGoDuration(Number(ns ?? 0) / 1e6);

/** docker's `service inspect --pretty` layout (cli/command/service/formatter.go). */
function prettyService(s: any): string {
  const sp = s.Spec;
  const tt = sp.TaskTemplate ?? {};
  const cs = tt.ContainerSpec ?? {};
  const l: string[] = ['', `ID:\t\t${s.ID}`, `Name:\t\t${sp.Name}`];
  const labels = Object.entries(sp.Labels ?? {});
  if (labels.length) {
    l.push('Labels:');
    for (const [k, v] of labels) l.push(` ${k}=${v}`);
  }
  if (sp.Mode?.Global) l.push('Service Mode:\tGlobal');
  else if (sp.Mode?.Replicated) l.push('Service Mode:\tReplicated', ` Replicas:\t${sp.Mode.Replicated.Replicas ?? 0}`);
  // docker's template names no job mode.
  else l.push('Service Mode:');
  const rp = tt.RestartPolicy;
  if (rp) {
    l.push('RestartPolicy:', ` Condition:\t${rp.Condition}`, ` Delay:\t\t${dur(rp.Delay)}`, ` Max attempts:\t${rp.MaxAttempts ?? 0}`);
  }
  l.push('Placement:');
  if (tt.Placement?.Constraints?.length) l.push(` Constraints:\t[${tt.Placement.Constraints.join(' ')}]`);
  // docker's template has spaces, not a tab, after "Preferences:".
  if (tt.Placement?.Preferences?.length) l.push(` Preferences:   [${tt.Placement.Preferences.filter((p: any) => p.Spread).map((p: any) => `spread=${p.Spread.SpreadDescriptor}`).join(' ')}]`);
  if (tt.Placement?.MaxReplicas) l.push(` Max Replicas Per Node:   ${tt.Placement.MaxReplicas}`);
  for (const [title, c, word] of [['UpdateConfig', sp.UpdateConfig, 'Update'], ['RollbackConfig', sp.RollbackConfig, 'Rollback']] as const) {
    if (!c) continue;
    l.push(`${title}:`, ` Parallelism:\t${c.Parallelism ?? 0}`);
    if (c.Delay) l.push(` Delay:\t\t${dur(c.Delay)}`);
    l.push(` On failure:\t${c.FailureAction}`, ` Monitoring Period: ${dur(c.Monitor)}`, ` Max failure ratio: ${c.MaxFailureRatio ?? 0}`, word === 'Update' ? ` Update order:      ${c.Order}` : ` Rollback order:    ${c.Order}`);
  }
  l.push('ContainerSpec:', ` Image:\t\t${cs.Image}`);
  if (cs.Command?.length) l.push(` Command:\t${cs.Command.join(' ')}`);
  if (cs.Args?.length) l.push(` Args:\t\t${cs.Args.join(' ')}`);
  if (cs.Env?.length) l.push(` Env:\t\t${cs.Env.join(' ')}`);
  if (cs.Dir) l.push(` Dir:\t\t${cs.Dir}`);
  if (cs.User) l.push(` User: ${cs.User}`);
  l.push(` Init:\t\t${!!cs.Init}`);
  if (cs.Mounts?.length) {
    l.push('Mounts:');
    for (const m of cs.Mounts) l.push(` Target:\t${m.Target}`, `  Source:\t${m.Source ?? ''}`, `  ReadOnly:\t${!!m.ReadOnly}`, `  Type:\t\t${m.Type}`);
  }
  const lim = tt.Resources?.Limits ?? {};
  const res = tt.Resources?.Reservations ?? {};
  l.push('Resources:');
  if (res.NanoCPUs || res.MemoryBytes) {
    l.push(' Reservations:');
    if (res.NanoCPUs) l.push(`  CPU:\t\t${res.NanoCPUs / 1e9}`);
    if (res.MemoryBytes) l.push(`  Memory:\t${humanBin(res.MemoryBytes)}`);
  }
  if (lim.NanoCPUs || lim.MemoryBytes || lim.Pids) {
    l.push(' Limits:');
    if (lim.NanoCPUs) l.push(`  CPU:\t\t${lim.NanoCPUs / 1e9}`);
    if (lim.MemoryBytes) l.push(`  Memory:\t${humanBin(lim.MemoryBytes)}`);
    if (lim.Pids) l.push(`  PIDs:\t\t${lim.Pids}`);
  }
  l.push(`Endpoint Mode:\t${sp.EndpointSpec?.Mode ?? 'vip'}`);
  const ports = s.Endpoint?.Ports ?? [];
  if (ports.length) {
    l.push('Ports:');
    for (const p of ports) l.push(` PublishedPort = ${p.PublishedPort}`, `  Protocol = ${p.Protocol}`, `  TargetPort = ${p.TargetPort}`, `  PublishMode = ${p.PublishMode}`);
  }
  return l.join('\n') + '\n';
}

function humanBin(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toFixed(3))}${units[i]}`;
}

export const command: Command = {
  spec: {
    use: 'inspect [OPTIONS] SERVICE [SERVICE...]',
    short: 'Display detailed information on one or more services',
    aliases: ['berth service inspect'],
    flags: [
      { name: 'format', short: 'f', type: 'string', usage: FORMAT_USAGE_JSON },
      { name: 'pretty', type: 'bool', usage: 'Print the information in a human friendly format' },
    ],
    args: { kind: 'min', n: 1 },
  },
  async run(ctx, flags, args) {
    const get = async (ref: string) => {
      try {
        return await ctx.client.get(`/services/${enc(ref)}`);
      } catch (e) {
        if (/not found/.test((e as Error).message)) throw new StatusError(`no such service: ${ref}`, 1);
        throw e;
      }
    };
    if (!flags.bool('pretty')) return inspectAll(ctx, args, flags.string('format'), get);
    if (flags.string('format')) throw new StatusError('--format is incompatible with human friendly format', 1);
    const errors: string[] = [];
    for (const [i, a] of args.entries()) {
      try {
        const s = await get(a);
        if (i > 0) ctx.stdout.write('\n\n');
        ctx.stdout.write(prettyService(s));
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length) throw new StatusError(errors.join('\n'), 1);
    return 0;
  },
};
