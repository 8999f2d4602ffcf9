// berth kill: docker's batch output.
import type { Command } from '../command.js';
import { runBatch, enc } from '../batch.js';

export const command: Command = {
  spec: {
    use: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Kill one or more running containers',
    aliases: ['berth container kill', 'berth kill'],
    flags: [{ name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' }],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    const signal = flags.string('signal') || undefined;
    return runBatch(ctx, args, async (name) => {
      await ctx.client.post(`/containers/${enc(name)}/kill`, { signal });
      return name;
    });
  },
};
