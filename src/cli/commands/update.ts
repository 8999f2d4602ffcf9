// berth update / container update
import type { Command } from '../command.js';
import { enc, runBatch } from '../batch.js';
import { StatusError, type FlagSpec } from '../flags.js';
import { containerFlags, parseRestartPolicy } from '../containeropts.js';

const NAMES = ['blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-rt-period', 'cpu-rt-runtime', 'cpu-shares', 'cpus', 'cpuset-cpus', 'cpuset-mems', 'memory', 'memory-reservation', 'memory-swap', 'pids-limit', 'restart'];

// The same flags (types, parsers, texts) as create's, except restart's usage, which docker words differently here.
const FLAGS: FlagSpec[] = NAMES.map((n) => {
  const f = containerFlags.find((x) => x.name === n);
  if (!f) throw new Error(`update: no shared flag ${n}`);
  return n === 'restart' ? { ...f, usage: 'Restart policy to apply when a container exits', def: undefined } : f;
});

export const command: Command = {
  spec: {
    use: 'update [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Update configuration of one or more containers',
    aliases: ['berth container update', 'berth update'],
    flags: FLAGS,
    args: { kind: 'min', n: 1 },
  },
  async run(ctx, flags, args) {
    if (!NAMES.some((n) => flags.changed(n))) throw new StatusError('you must provide one or more flags when using this command', 1);
    const num = (n: string): number | undefined => (flags.changed(n) ? (flags.parsedValue<number>(n) ?? flags.int(n)) : undefined);
    const body: Record<string, unknown> = {
      BlkioWeight: num('blkio-weight'),
      CpuShares: num('cpu-shares'),
      CpuPeriod: num('cpu-period'),
      CpuQuota: num('cpu-quota'),
      CpuRealtimePeriod: num('cpu-rt-period'),
      CpuRealtimeRuntime: num('cpu-rt-runtime'),
      NanoCpus: num('cpus'),
      CpusetCpus: flags.string('cpuset-cpus') || undefined,
      CpusetMems: flags.string('cpuset-mems') || undefined,
      Memory: num('memory'),
      MemoryReservation: num('memory-reservation'),
      MemorySwap: num('memory-swap'),
      PidsLimit: num('pids-limit'),
    };
    if (flags.changed('restart')) {
      try {
        body.RestartPolicy = parseRestartPolicy(flags.string('restart'));
      } catch (e) {
        throw new StatusError((e as Error).message, 125);
      }
    }
    return runBatch(ctx, args, async (name) => {
      const r = await ctx.client.post(`/containers/${enc(name)}/update`, undefined, body);
      for (const w of r?.Warnings ?? []) ctx.stderr.write(`${w}\n`);
      return name;
    });
  },
};
