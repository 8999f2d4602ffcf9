// berth history / image history
import type { Command } from '../command.js';
import { enc, FORMAT_USAGE_TABLE } from '../batch.js';
import { formatHistory } from '../format/index.js';

export const command: Command = {
  spec: {
    use: 'history [OPTIONS] IMAGE',
    short: 'Show the history of an image',
    aliases: ['berth image history', 'berth history'],
    flags: [
      { name: 'format', type: 'string', usage: FORMAT_USAGE_TABLE },
      { name: 'human', short: 'H', type: 'bool', usage: 'Print sizes and dates in human readable format', def: 'true' },
      { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
      { name: 'platform', type: 'string', usage: 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
    ],
    args: { kind: 'exact', n: 1 },
  },
  async run(ctx, flags, args) {
    const list = await ctx.client.get(`/images/${enc(args[0])}/history`);
    ctx.stdout.write(
      formatHistory(list ?? [], {
        format: flags.string('format'),
        quiet: flags.bool('quiet'),
        noTrunc: flags.bool('no-trunc'),
        human: flags.bool('human'),
      }),
    );
    return 0;
  },
};
