// berth volume prune
import type { Command } from '../command.js';
import { buildFilters } from '../batch.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../../common/units.js';

export const command: Command = {
  spec: {
    use: 'prune [OPTIONS]',
    short: 'Remove unused local volumes',
    aliases: ['berth volume prune'],
    flags: [
      { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused volumes, not just anonymous ones' },
      { name: 'filter', type: 'filter', usage: 'Provide filter values (e.g. "label=<label>")' },
      { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const all = flags.bool('all');
    const warning = all
      ? 'WARNING! This will remove all local volumes not used by at least one container.'
      : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const filters = [...flags.list('filter'), ...(all ? ['all=true'] : [])];
    const r = await ctx.client.post('/volumes/prune', { filters: buildFilters(filters) });
    ctx.stdout.write(pruneReport(r.VolumesDeleted ?? [], r.SpaceReclaimed ?? 0));
    return 0;
  },
};

export function pruneReport(names: string[], space: number): string {
  let out = '';
  if (names.length) out += 'Deleted Volumes:\n' + names.map((n) => n + '\n').join('') + '\n';
  return out + `Total reclaimed space: ${humanSize(space)}\n`;
}
