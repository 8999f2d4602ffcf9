// berth network prune
import type { Command } from '../command.js';
import { buildFilters } from '../batch.js';
import { confirm } from '../confirm.js';

export const command: Command = {
  spec: {
    use: 'prune [OPTIONS]',
    short: 'Remove all unused networks',
    aliases: [],
    flags: [
      { name: 'filter', type: 'filter', usage: 'Provide filter values (e.g. "until=<timestamp>")' },
      { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    if (!flags.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.'))) return 0;
    const r = await ctx.client.post('/networks/prune', { filters: buildFilters(flags.list('filter')) });
    const names: string[] = r.NetworksDeleted ?? [];
    if (names.length) ctx.stdout.write('Deleted Networks:\n' + names.map((n) => n + '\n').join(''));
    return 0;
  },
};
