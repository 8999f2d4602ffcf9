// berth wait: prints each container's exit code.
import type { Command } from '../command.js';
import { runBatch, enc } from '../batch.js';

export const command: Command = {
  spec: {
    use: 'wait CONTAINER [CONTAINER...]',
    short: 'Block until one or more containers stop, then print their exit codes',
    aliases: ['berth container wait', 'berth wait'],
    flags: [],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, _flags, args) {
    return runBatch(ctx, args, async (name) => {
      const r = await ctx.client.post(`/containers/${enc(name)}/wait`);
      if (r?.Error?.Message) throw new Error(r.Error.Message);
      return String(r?.StatusCode ?? 0);
    });
  },
};
