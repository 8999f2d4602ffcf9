// berth container prune
import type { Command } from '../command.js';
import { buildFilters } from '../batch.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../../common/units.js';

export const command: Command = {
  spec: {
    use: 'prune [OPTIONS]',
    short: 'Remove all stopped containers',
    aliases: ['berth container prune'],
    flags: [
      { name: 'filter', type: 'list', usage: 'Provide filter values (e.g. "until=<timestamp>")' },
      { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    if (!flags.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return 0;
    const r = await ctx.client.post('/containers/prune', { filters: buildFilters(flags.list('filter')) });
    let out = '';
    const ids: string[] = r.ContainersDeleted ?? [];
    if (ids.length) out += 'Deleted Containers:\n' + ids.map((i) => i + '\n').join('') + '\n';
    out += `Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`;
    ctx.stdout.write(out);
    return 0;
  },
};
