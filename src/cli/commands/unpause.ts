// berth unpause: one API call per container, docker's batch output.
import type { Command } from '../command.js';
import { runBatch, enc } from '../batch.js';

export const command: Command = {
  spec: {
    use: 'unpause CONTAINER [CONTAINER...]',
    short: 'Unpause all processes within one or more containers',
    aliases: ['berth container unpause', 'berth unpause'],
    flags: [],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, _flags, args) {
    return runBatch(ctx, args, async (name) => {
      await ctx.client.post(`/containers/${enc(name)}/unpause`);
      return name;
    });
  },
};
