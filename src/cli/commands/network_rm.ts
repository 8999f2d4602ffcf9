// berth network rm
import type { Command } from '../command.js';
import { enc, runBatch } from '../batch.js';

export const command: Command = {
  spec: {
    use: 'rm NETWORK [NETWORK...]',
    short: 'Remove one or more networks',
    aliases: ['berth network rm', 'berth network remove'],
    flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Do not error if the network does not exist' }],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    return runBatch(ctx, args, async (name) => {
      try {
        await ctx.client.request('DELETE', `/networks/${enc(name)}`);
      } catch (e) {
        if (flags.bool('force') && /not found/.test((e as Error).message)) return undefined;
        throw e;
      }
      return name;
    });
  },
};
