// berth stats / container stats
import type { Command, Ctx } from '../command.js';
import { enc, FORMAT_USAGE_TABLE } from '../batch.js';
import { StatusError } from '../flags.js';
import { renderList } from '../format/context.js';
import { DEFAULT_STATS_TABLE, STATS_HEADER, StatsContext, statsEntry, type StatsEntry } from '../format/stats.js';

async function sampleAll(ctx: Ctx, names: string[]): Promise<{ entries: StatsEntry[]; errors: string[] }> {
  const results = await Promise.all(
    names.map(async (n) => {
      try {
        return { entry: statsEntry(n, await ctx.client.get(`/containers/${enc(n)}/stats`, { stream: false })) };
      } catch (e) {
        if (e instanceof StatusError && /^Cannot connect to the berth daemon/.test(e.message)) throw e;
        return { error: (e as Error).message };
      }
    }),
  );
  return {
    entries: results.flatMap((r) => (r.entry ? [r.entry] : [])),
    errors: results.flatMap((r) => (r.error ? [r.error] : [])),
  };
}

export const command: Command = {
  spec: {
    use: 'stats [OPTIONS] [CONTAINER...]',
    short: 'Display a live stream of container(s) resource usage statistics',
    aliases: ['berth container stats', 'berth stats'],
    flags: [
      { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
      { name: 'format', type: 'string', usage: FORMAT_USAGE_TABLE },
      { name: 'no-stream', type: 'bool', usage: 'Disable streaming stats and only pull the first result' },
      { name: 'no-trunc', type: 'bool', usage: 'Do not truncate output' },
    ],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const trunc = !flags.bool('no-trunc');
    const listNames = async (): Promise<string[]> => {
      if (args.length) return args;
      const list: Array<{ Id: string }> = await ctx.client.get('/containers/json', flags.bool('all') ? { all: true } : undefined);
      return list.map((c) => c.Id.slice(0, 12));
    };
    const render = (entries: StatsEntry[]) =>
      renderList(
        flags.string('format') || undefined,
        entries.map((e) => new StatsContext(e, trunc)),
        DEFAULT_STATS_TABLE,
        { header: STATS_HEADER },
      );
    if (flags.bool('no-stream')) {
      const { entries, errors } = await sampleAll(ctx, await listNames());
      ctx.stdout.write(render(entries));
      if (errors.length) throw new StatusError(errors.join('\n'), 1);
      return 0;
    }
    let stop = false;
    const onInt = () => (stop = true);
    process.once('SIGINT', onInt);
    try {
      while (!stop) {
        const { entries, errors } = await sampleAll(ctx, await listNames());
        if (args.length && errors.length === args.length) throw new StatusError(errors.join('\n'), 1);
        // docker redraws the whole table in place.
        ctx.stdout.write('\x1b[2J\x1b[H' + render(entries));
      }
    } finally {
      process.off('SIGINT', onInt);
    }
    return 0;
  },
};
