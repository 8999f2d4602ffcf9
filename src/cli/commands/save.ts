// berth save / image save
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';

export const command: Command = {
  spec: {
    use: 'save [OPTIONS] IMAGE [IMAGE...]',
    short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    aliases: ['berth image save', 'berth save'],
    flags: [
      { name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' },
      { name: 'platform', type: 'stringSlice', usage: 'Save only the given platform(s). Formatted as a comma-separated list of "os[/arch[/variant]]" (e.g., "linux/amd64,linux/arm64/v8")' },
    ],
    args: { kind: 'min', n: 1 },
  },
  async run(ctx, flags, args) {
    const output = flags.string('output');
    if (!output && ctx.stdout.isTTY) {
      throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    }
    const res = await ctx.client.stream('GET', '/images/get', { query: { names: args } });
    if (output) {
      try {
        await pipeline(res, createWriteStream(output));
      } catch (e) {
        throw new StatusError(`failed to save image: ${(e as Error).message}`, 1);
      }
    } else {
      await new Promise<void>((resolve, reject) => {
        res.on('data', (c) => ctx.stdout.write(c));
        res.on('end', resolve);
        res.on('error', reject);
      });
    }
    return 0;
  },
};
