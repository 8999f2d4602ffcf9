// berth events / system events: streams until interrupted or --until passes.
import type { Command } from '../command.js';
import { buildFilters, FORMAT_USAGE_JSON } from '../batch.js';
import { readJSONStream } from '../client.js';
import { StatusError } from '../flags.js';
import { getTimestamp } from '../../common/units.js';
import { parseTemplate } from '../../common/gotemplate/index.js';
import { EventRow, prettyEvent } from '../format/events.js';

export const command: Command = {
  spec: {
    use: 'events [OPTIONS]',
    short: 'Get real time events from the server',
    aliases: ['berth system events', 'berth events'],
    flags: [
      { name: 'filter', short: 'f', type: 'list', usage: 'Filter output based on conditions provided' },
      { name: 'format', type: 'string', usage: FORMAT_USAGE_JSON },
      { name: 'since', type: 'string', usage: 'Show all events created since timestamp' },
      { name: 'until', type: 'string', usage: 'Stream events until this timestamp' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags, _args) {
    const now = new Date();
    const ts = (name: string): string | undefined => {
      const v = flags.string(name);
      if (!v) return undefined;
      try {
        return getTimestamp(v, now);
      } catch (e) {
        throw new StatusError((e as Error).message, 1);
      }
    };
    let format = flags.string('format');
    if (format === 'json') format = '{{json .}}';
    let render: (m: Record<string, any>) => string = prettyEvent;
    if (format) {
      let tmpl: ReturnType<typeof parseTemplate>;
      try {
        tmpl = parseTemplate(format);
      } catch (e) {
        throw new StatusError(`template parsing error: ${(e as Error).message}`, 64);
      }
      render = (m) => tmpl.execute(new EventRow(m)) + '\n';
    }
    const res = await ctx.client.stream('GET', '/events', {
      query: { since: ts('since'), until: ts('until'), filters: buildFilters(flags.list('filter')) },
    });
    await readJSONStream(res, (m) => ctx.stdout.write(render(m)));
    return 0;
  },
};
