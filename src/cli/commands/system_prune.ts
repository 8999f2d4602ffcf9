// berth system prune: containers, networks, (volumes,) images and build cache, as docker's.
import type { Command, Ctx } from '../command.js';
import { buildFilters } from '../batch.js';
import { confirm } from '../confirm.js';
import { httpStatusOf } from '../client.js';
import { StatusError } from '../flags.js';
import { humanSize } from '../../common/units.js';

interface Pruner {
  warning: (all: boolean) => string;
  run: (ctx: Ctx, all: boolean, filters: string[]) => Promise<{ space: number; output: string }>;
}

/** A daemon without the endpoint (404) has nothing of that kind to prune. */
async function postOr404(ctx: Ctx, path: string, query: Record<string, string | undefined>): Promise<any | undefined> {
  try {
    return await ctx.client.post(path, query);
  } catch (e) {
    if (httpStatusOf(e) === 404) return undefined;
    throw e;
  }
}

const list = (title: string, items: string[]) => (items.length ? `${title}:\n${items.map((i) => i + '\n').join('')}` : '');

const PRUNERS: Pruner[] = [
  {
    warning: () => 'all stopped containers',
    run: async (ctx, _all, f) => {
      const r = await ctx.client.post('/containers/prune', { filters: buildFilters(f) });
      return { space: r.SpaceReclaimed ?? 0, output: list('Deleted Containers', r.ContainersDeleted ?? []) };
    },
  },
  {
    warning: () => 'all networks not used by at least one container',
    run: async (ctx, _all, f) => {
      const r = await postOr404(ctx, '/networks/prune', { filters: buildFilters(f) });
      return { space: 0, output: list('Deleted Networks', r?.NetworksDeleted ?? []) };
    },
  },
  {
    warning: () => 'all anonymous volumes not used by at least one container',
    run: async (ctx, _all, f) => {
      const r = await ctx.client.post('/volumes/prune', { filters: buildFilters(f) });
      return { space: r.SpaceReclaimed ?? 0, output: list('Deleted Volumes', r.VolumesDeleted ?? []) };
    },
  },
  {
    warning: (all) => (all ? 'all images without at least one container associated to them' : 'all dangling images'),
    run: async (ctx, all, f) => {
      const r = await ctx.client.post('/images/prune', { filters: buildFilters([...f, ...(all ? ['dangling=false'] : [])]) });
      const items: Array<{ Untagged?: string; Deleted?: string }> = r.ImagesDeleted ?? [];
      return { space: r.SpaceReclaimed ?? 0, output: list('Deleted Images', items.map((i) => (i.Untagged ? `untagged: ${i.Untagged}` : `deleted: ${i.Deleted}`))) };
    },
  },
  {
    warning: (all) => (all ? 'all build cache' : 'unused build cache'),
    run: async (ctx, all, f) => {
      const r = await postOr404(ctx, '/build/prune', { filters: buildFilters(f), all: all ? '1' : undefined });
      return { space: r?.SpaceReclaimed ?? 0, output: list('Deleted build cache objects', r?.CachesDeleted ?? []) };
    },
  },
];

export const command: Command = {
  spec: {
    use: 'prune [OPTIONS]',
    short: 'Remove unused data',
    aliases: ['berth system prune'],
    flags: [
      { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images not just dangling ones' },
      { name: 'filter', type: 'filter', usage: 'Provide filter values (e.g. "label=<key>=<value>")' },
      { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
      { name: 'volumes', type: 'bool', usage: 'Prune anonymous volumes' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const all = flags.bool('all');
    const filters = flags.list('filter');
    const pruners = PRUNERS.filter((_, i) => i !== 2 || flags.bool('volumes'));
    if (flags.bool('volumes') && filters.some((f) => f.startsWith('until='))) {
      throw new StatusError('ERROR: The "until" filter is not supported with "--volumes"', 1);
    }
    if (!flags.bool('force')) {
      let warning = 'WARNING! This will remove:\n' + pruners.map((p) => `  - ${p.warning(all)}\n`).join('');
      if (filters.length) warning += '\n  Items to be pruned will be filtered with:\n' + [...filters].sort().map((f) => `  - ${f}\n`).join('');
      if (!(await confirm(ctx, warning))) return 0;
    }
    let space = 0;
    for (const p of pruners) {
      const r = await p.run(ctx, all, filters);
      space += r.space;
      if (r.output) ctx.stdout.write(r.output + '\n');
    }
    ctx.stdout.write(`Total reclaimed space: ${humanSize(space)}\n`);
    return 0;
  },
};
