// berth export / container export
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from '../command.js';
import { enc } from '../batch.js';
import { StatusError } from '../flags.js';

export const command: Command = {
  spec: {
    use: 'export [OPTIONS] CONTAINER',
    short: "Export a container's filesystem as a tar archive",
    aliases: ['berth container export', 'berth export'],
    flags: [{ name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' }],
    args: { kind: 'exact', n: 1 },
  },
  async run(ctx, flags, args) {
    const output = flags.string('output');
    if (!output && ctx.stdout.isTTY) {
      throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    }
    const res = await ctx.client.stream('GET', `/containers/${enc(args[0])}/export`);
    try {
      if (output) await pipeline(res, createWriteStream(output));
      else await pipeline(res, ctx.stdout, { end: false });
    } catch (e) {
      throw new StatusError(`failed to export container: ${(e as Error).message}`, 1);
    }
    return 0;
  },
};
