// berth top: the daemon runs ps; we print its table like docker's tabwriter(20, 1, 3).
import type { Command } from '../command.js';
import { enc } from '../batch.js';
import { tabwrite } from '../format/tabwriter.js';

export const command: Command = {
  spec: {
    use: 'top CONTAINER [ps OPTIONS]',
    short: 'Display the running processes of a container',
    aliases: ['berth container top', 'berth top'],
    flags: [],
    args: { kind: 'min', n: 1 },
    stopAtFirstArg: true,
  },
  async run(ctx, _flags, args) {
    const psArgs = args.slice(1).join(' ');
    const r = await ctx.client.get(`/containers/${enc(args[0])}/top`, psArgs ? { ps_args: psArgs } : undefined);
    const rows: string[][] = [r.Titles ?? [], ...((r.Processes ?? []) as string[][])];
    ctx.stdout.write(tabwrite(rows.map((r) => r.join('\t') + '\n').join(''), { minwidth: 20, padding: 3 }));
    return 0;
  },
};
