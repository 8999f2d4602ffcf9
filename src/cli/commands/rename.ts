// berth rename
import type { Command } from '../command.js';
import { enc } from '../batch.js';
import { StatusError } from '../flags.js';

export const command: Command = {
  spec: {
    use: 'rename CONTAINER NEW_NAME',
    short: 'Rename a container',
    aliases: ['berth container rename', 'berth rename'],
    flags: [],
    args: { kind: 'exact', n: 2 },
  },
  async run(ctx, _flags, args) {
    const oldName = args[0].trim();
    const newName = args[1].trim();
    if (oldName === '' || newName === '') throw new StatusError('Error: Neither old nor new names may be empty', 1);
    await ctx.client.post(`/containers/${enc(oldName)}/rename`, { name: newName });
    return 0;
  },
};
