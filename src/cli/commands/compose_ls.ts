// berth compose ls: the compose projects on the engine, found by their containers' labels.
import type { Command } from '../command.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { StatusError } from '../flags.js';
import { tabwrite } from '../format/tabwriter.js';
import { LABEL } from '../../compose/engine/names.js';
import type { ContainerSummary } from '../../compose/engine/api.js';

/** `exited(1), running(2)`: compose's summary of a project's container states */
export function combinedStatus(states: string[]): string {
  const counts = new Map<string, number>();
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts.keys()].sort().map((s) => `${s}(${counts.get(s)})`).join(', ');
}

export const command: Command = {
  spec: {
    use: 'ls [OPTIONS]',
    short: 'List running compose projects',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'all', short: 'a', type: 'bool', usage: 'Show all stopped Compose projects' },
      { name: 'filter', type: 'stringArray', usage: 'Filter output based on conditions provided' },
      { name: 'format', type: 'string', usage: 'Format the output. Values: [table | json]', def: 'table' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display project names' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const list = await ctx.client.get<ContainerSummary[]>('/containers/json', { all: flags.bool('all') ? 1 : undefined, filters: JSON.stringify({ label: [LABEL.project] }) });
    const names: string[] = [];
    for (const f of flags.list('filter')) {
      const [k, v] = f.split('=');
      if (k !== 'name' || v === undefined) throw new StatusError(`invalid filter '${f}'`, 1);
      names.push(v);
    }
    const projects = new Map<string, { states: string[]; files: string }>();
    for (const c of list) {
      const name = c.Labels[LABEL.project];
      if (names.length && !names.some((n) => name.includes(n))) continue;
      if (!projects.has(name)) projects.set(name, { states: [], files: c.Labels[LABEL.configFiles] ?? '' });
      projects.get(name)!.states.push(c.State);
    }
    const rows = [...projects.keys()].sort().map((n) => ({ Name: n, Status: combinedStatus(projects.get(n)!.states), ConfigFiles: projects.get(n)!.files }));
    if (flags.bool('quiet')) ctx.stdout.write(rows.map((r) => r.Name + '\n').join(''));
    else if (flags.string('format') === 'json') ctx.stdout.write(JSON.stringify(rows) + '\n');
    else if (flags.string('format') && flags.string('format') !== 'table') throw new StatusError(`format value ${JSON.stringify(flags.string('format'))} could not be parsed: must be table or json`, 1);
    else ctx.stdout.write(tabwrite(['NAME\tSTATUS\tCONFIG FILES', ...rows.map((r) => `${r.Name}\t${r.Status}\t${r.ConfigFiles}`)].map((l) => l + '\n').join(''), { minwidth: 4, padding: 3 }));
    return 0;
  },
};
