// berth builder prune
import type { Command } from '../command.js';
import { buildFilters } from '../batch.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../../common/units.js';

export const command: Command = {
  spec: {
    use: 'prune',
    short: 'Remove build cache',
    aliases: ['berth builder prune'],
    flags: [
      { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused build cache, not just dangling ones' },
      { name: 'filter', type: 'list', usage: 'Provide filter values (e.g. "until=24h")' },
      { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const warning = 'WARNING! This will remove all dangling build cache.';
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const r = await ctx.client.post('/build/prune', { all: flags.bool('all') || undefined, filters: buildFilters(flags.list('filter')) });
    let out = '';
    const ids: string[] = r.CachesDeleted ?? [];
    if (ids.length) out += 'Deleted build cache objects:\n' + ids.map((i) => i + '\n').join('') + '\n';
    out += `Total:\t${humanSize(r.SpaceReclaimed ?? 0)}\n`;
    ctx.stdout.write(out);
    return 0;
  },
};
