// berth compose ps: the project's containers with compose's columns and filters.
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { loadProjectOrName, projectContainers } from './compose_common.js';
import { formatComposePs } from '../format/compose-ps.js';
import { LABEL } from '../../compose/engine/names.js';

const STATES = ['paused', 'restarting', 'removing', 'running', 'dead', 'created', 'exited'];

export const command: Command = {
  spec: {
    use: 'ps [OPTIONS] [SERVICE...]',
    short: 'List containers',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'all', short: 'a', type: 'bool', usage: 'Show all stopped containers (including those created by the run command)' },
      { name: 'filter', type: 'string', usage: 'Filter services by a property (supported filters: status)' },
      { name: 'format', type: 'string', usage: 'Format output using a custom template:\n\'table\':            Print output in table format with column headers (default)\n\'table TEMPLATE\':   Print output in table format using the given Go template\n\'json\':             Print in JSON format\n\'TEMPLATE\':         Print output using the given Go template', def: 'table' },
      { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
      { name: 'orphans', type: 'bool', usage: 'Include orphaned services (not declared by project)', def: 'true' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display IDs' },
      { name: 'services', type: 'bool', usage: 'Display services' },
      { name: 'status', type: 'stringArray', usage: 'Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]' },
    ],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const statuses = [...flags.list('status')];
    const filter = flags.string('filter');
    if (filter) {
      const [k, v] = filter.split('=');
      if (k !== 'status' || !v) throw new StatusError(`unsupported filter ${JSON.stringify(filter)}`, 1);
      statuses.push(v);
    }
    for (const s of statuses) if (!STATES.includes(s)) throw new StatusError(`invalid filter "status=${s}"`, 1);
    const all = flags.bool('all') || statuses.length > 0;
    let list = await projectContainers(ctx, p, args, { all });
    if (statuses.length) list = list.filter((c) => statuses.includes(c.State));
    if (!flags.bool('orphans') && Object.keys(p.services).length) list = list.filter((c) => c.Labels[LABEL.service] in p.services);
    if (flags.bool('services')) {
      const names = [...new Set(list.map((c) => c.Labels[LABEL.service]))].sort();
      ctx.stdout.write(names.map((n) => n + '\n').join(''));
      return 0;
    }
    if (flags.bool('quiet')) {
      ctx.stdout.write(list.map((c) => c.Id + '\n').join(''));
      return 0;
    }
    ctx.stdout.write(formatComposePs(list, flags.string('format'), flags.bool('no-trunc')));
    return 0;
  },
};
