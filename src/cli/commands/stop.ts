// berth stop: docker's batch output; -t is sent only when given so the container's StopTimeout applies.
import type { Command } from '../command.js';
import { runBatch, enc } from '../batch.js';

export const command: Command = {
  spec: {
    use: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Stop one or more running containers',
    aliases: ['berth container stop', 'berth stop'],
    flags: [
      { name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' },
      { name: 'time', type: 'int', usage: 'Seconds to wait before killing the container (deprecated: use --timeout)', def: '0', hidden: true },
      { name: 'timeout', short: 't', type: 'int', usage: 'Seconds to wait before killing the container', def: '0' },
    ],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    const t = flags.changed('timeout') ? flags.int('timeout') : flags.changed('time') ? flags.int('time') : undefined;
    const signal = flags.string('signal') || undefined;
    return runBatch(ctx, args, async (name) => {
      await ctx.client.post(`/containers/${enc(name)}/stop`, { signal, t });
      return name;
    });
  },
};
