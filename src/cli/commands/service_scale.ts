// berth service scale
import type { Command } from '../command.js';
import { enc } from '../batch.js';
import { StatusError } from '../flags.js';
import { waitConverged } from '../format/swarm.js';

export const command: Command = {
  spec: {
    use: 'scale SERVICE=REPLICAS [SERVICE=REPLICAS...]',
    short: 'Scale one or multiple replicated services',
    aliases: ['berth service scale'],
    flags: [{ name: 'detach', short: 'd', type: 'bool', usage: 'Exit immediately instead of waiting for the service to converge' }],
    args: { kind: 'min', n: 1 },
  },
  async run(ctx, flags, args) {
    for (const a of args) {
      const m = /^([^=]+)=(.*)$/.exec(a);
      if (!m) throw new StatusError(`Invalid scale specifier '${a}'.\nSee 'berth service scale --help'.\n\nUsage:  berth service scale SERVICE=REPLICAS [SERVICE=REPLICAS...]\n\nScale one or multiple replicated services`, 1);
    }
    const errors: string[] = [];
    const scaled: string[] = [];
    for (const a of args) {
      const [, name, value] = /^([^=]+)=(.*)$/.exec(a)!;
      try {
        const n = Number(value);
        if (!/^\d+$/.test(value!) || !Number.isSafeInteger(n)) throw new Error(`invalid replicas value ${value}: strconv.ParseUint: parsing "${value}": invalid syntax`);
        const svc = await ctx.client.get(`/services/${enc(name!)}`);
        // A replicated job scales its completions (docker/cli's runServiceScale).
        if (svc.Spec.Mode?.Replicated) svc.Spec.Mode.Replicated.Replicas = n;
        else if (svc.Spec.Mode?.ReplicatedJob) svc.Spec.Mode.ReplicatedJob.TotalCompletions = n;
        else throw new Error('scale can only be used with replicated or replicated-job mode');
        await ctx.client.post(`/services/${enc(svc.ID)}/update`, { version: svc.Version.Index }, svc.Spec);
        ctx.stdout.write(`${name} scaled to ${n}\n`);
        scaled.push(svc.ID);
      } catch (e) {
        errors.push(`${name}: ${(e as Error).message}`);
      }
    }
    if (!flags.bool('detach')) for (const id of scaled) await waitConverged(ctx, id);
    if (errors.length) throw new StatusError(errors.join('\n'), 1);
    return 0;
  },
};
