// berth volume rm
import type { Command } from '../command.js';
import { enc, runBatch } from '../batch.js';

export const command: Command = {
  spec: {
    use: 'rm [OPTIONS] VOLUME [VOLUME...]',
    short: 'Remove one or more volumes',
    aliases: ['berth volume rm', 'berth volume remove'],
    flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of one or more volumes' }],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    const force = flags.bool('force') || undefined;
    return runBatch(ctx, args, async (name) => {
      await ctx.client.request('DELETE', `/volumes/${enc(name)}`, { query: { force } });
      return name;
    });
  },
};
