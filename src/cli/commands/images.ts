// berth images / image ls
import type { Command } from '../command.js';
import { buildFilters, FORMAT_USAGE_TABLE } from '../batch.js';
import { formatImages } from '../format/index.js';

export const command: Command = {
  spec: {
    use: 'images [OPTIONS] [REPOSITORY[:TAG]]',
    short: 'List images',
    aliases: ['berth image ls', 'berth image list', 'berth images'],
    flags: [
      { name: 'all', short: 'a', type: 'bool', usage: 'Show all images (default hides intermediate and dangling images)' },
      { name: 'digests', type: 'bool', usage: 'Show digests' },
      { name: 'filter', short: 'f', type: 'filter', usage: 'Filter output based on conditions provided' },
      { name: 'format', type: 'string', usage: FORMAT_USAGE_TABLE },
      { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
      { name: 'tree', type: 'bool', usage: 'List multi-platform images as a tree (EXPERIMENTAL)', hidden: true },
    ],
    args: { kind: 'max', n: 1 },
  },
  async run(ctx, flags, args) {
    const filters = [...flags.list('filter')];
    if (args[0]) filters.push(`reference=${args[0]}`);
    const list = await ctx.client.get('/images/json', {
      all: flags.bool('all') || undefined,
      filters: buildFilters(filters),
    });
    ctx.stdout.write(
      formatImages(list ?? [], {
        format: flags.string('format'),
        quiet: flags.bool('quiet'),
        noTrunc: flags.bool('no-trunc'),
        digests: flags.bool('digests'),
      }),
    );
    return 0;
  },
};
