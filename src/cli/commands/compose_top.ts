// berth compose top: each running container's processes, under its name.
import type { Command } from '../command.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { containerName, loadProjectOrName, projectContainers } from './compose_common.js';
import { tabwrite } from '../format/tabwriter.js';
import { enc } from '../../compose/engine/api.js';

export const command: Command = {
  spec: {
    use: 'top [SERVICES...]',
    short: 'Display the running processes',
    flags: [...COMPOSE_GLOBAL_FLAGS],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const list = await projectContainers(ctx, p, args, { all: false });
    const parts: string[] = [];
    for (const c of list) {
      const r = await ctx.client.get(`/containers/${enc(c.Id)}/top`);
      const rows: string[][] = [r.Titles ?? [], ...((r.Processes ?? []) as string[][])];
      parts.push(`${containerName(c)}\n` + tabwrite(rows.map((x) => x.join('\t') + '\n').join(''), { minwidth: 4, padding: 3 }));
    }
    ctx.stdout.write(parts.join('\n'));
    return 0;
  },
};
