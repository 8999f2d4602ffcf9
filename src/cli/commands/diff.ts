// berth diff / container diff
import type { Command } from '../command.js';
import { enc } from '../batch.js';

const KIND = ['C', 'A', 'D'];

export const command: Command = {
  spec: {
    use: 'diff CONTAINER',
    short: "Inspect changes to files or directories on a container's filesystem",
    aliases: ['berth container diff', 'berth diff'],
    flags: [],
    args: { kind: 'exact', n: 1 },
  },
  async run(ctx, _flags, args) {
    const list: Array<{ Path: string; Kind: number }> | null = await ctx.client.get(`/containers/${enc(args[0])}/changes`);
    for (const c of list ?? []) ctx.stdout.write(`${KIND[c.Kind] ?? '?'} ${c.Path}\n`);
    return 0;
  },
};
