// berth image prune
import type { Command } from '../command.js';
import { buildFilters } from '../batch.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../../common/units.js';

export const command: Command = {
  spec: {
    use: 'prune [OPTIONS]',
    short: 'Remove unused images',
    aliases: ['berth image prune'],
    flags: [
      { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images, not just dangling ones' },
      { name: 'filter', type: 'list', usage: 'Provide filter values (e.g. "until=<timestamp>")' },
      { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const all = flags.bool('all');
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const filters = [...flags.list('filter'), ...(all ? ['dangling=false'] : [])];
    const r = await ctx.client.post('/images/prune', { filters: buildFilters(filters) });
    let out = '';
    const items: Array<{ Untagged?: string; Deleted?: string }> = r.ImagesDeleted ?? [];
    if (items.length) {
      out += 'Deleted Images:\n';
      for (const i of items) out += i.Untagged ? `untagged: ${i.Untagged}\n` : `deleted: ${i.Deleted}\n`;
      out += '\n';
    }
    out += `Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`;
    ctx.stdout.write(out);
    return 0;
  },
};
