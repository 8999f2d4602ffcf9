// berth ps / container ls
import type { Command } from '../command.js';
import { buildFilters, FORMAT_USAGE_TABLE } from '../batch.js';
import { formatContainers } from '../format/index.js';

export const command: Command = {
  spec: {
    use: 'ps [OPTIONS]',
    short: 'List containers',
    aliases: ['berth container ls', 'berth container list', 'berth container ps', 'berth ps'],
    flags: [
      { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
      { name: 'filter', short: 'f', type: 'filter', usage: 'Filter output based on conditions provided' },
      { name: 'format', type: 'string', usage: FORMAT_USAGE_TABLE },
      { name: 'last', short: 'n', type: 'int', usage: 'Show n last created containers (includes all states)', def: '-1' },
      { name: 'latest', short: 'l', type: 'bool', usage: 'Show the latest created container (includes all states)' },
      { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display container IDs' },
      { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    let limit = flags.int('last');
    if (flags.bool('latest')) limit = 1;
    const format = flags.string('format');
    // a custom template that uses .Size needs the daemon to compute sizes (docker does the same)
    const size = flags.bool('size') || (!!format && format !== 'table' && /\.Size\b/.test(format));
    const list = await ctx.client.get('/containers/json', {
      all: flags.bool('all') || undefined,
      limit: limit > 0 ? limit : undefined,
      size: size || undefined,
      filters: buildFilters(flags.list('filter')),
    });
    ctx.stdout.write(formatContainers(list ?? [], { format, quiet: flags.bool('quiet'), noTrunc: flags.bool('no-trunc'), size }));
    return 0;
  },
};
