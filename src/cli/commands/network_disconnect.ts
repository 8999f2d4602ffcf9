// berth network disconnect
import type { Command } from '../command.js';
import { enc } from '../batch.js';

export const command: Command = {
  spec: {
    use: 'disconnect [OPTIONS] NETWORK CONTAINER',
    short: 'Disconnect a container from a network',
    aliases: [],
    flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the container to disconnect from a network' }],
    args: { kind: 'exact', n: 2 },
  },
  async run(ctx, flags, args) {
    await ctx.client.post(`/networks/${enc(args[0]!)}/disconnect`, undefined, { Container: args[1], Force: flags.bool('force') });
    return 0;
  },
};
