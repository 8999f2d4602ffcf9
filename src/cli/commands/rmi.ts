// berth rmi / image rm: prints the daemon's Untagged/Deleted report per image.
import type { Command } from '../command.js';
import { runBatch, enc } from '../batch.js';

export const command: Command = {
  spec: {
    use: 'rmi [OPTIONS] IMAGE [IMAGE...]',
    short: 'Remove one or more images',
    aliases: ['berth image rm', 'berth image remove', 'berth rmi'],
    flags: [
      { name: 'force', short: 'f', type: 'bool', usage: 'Force removal of the image' },
      { name: 'no-prune', type: 'bool', usage: 'Do not delete untagged parents' },
      { name: 'platform', type: 'stringSlice', usage: 'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
    ],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    const query = {
      force: flags.bool('force') || undefined,
      noprune: flags.bool('no-prune') || undefined,
      platforms: flags.list('platform').length ? flags.list('platform').map((p) => JSON.stringify(platformObj(p))) : undefined,
    };
    return runBatch(ctx, args, async (name) => {
      const { body } = await ctx.client.request('DELETE', `/images/${enc(name)}`, { query });
      const items: Array<{ Untagged?: string; Deleted?: string }> = JSON.parse(body.toString('utf8') || '[]');
      return items.map((i) => (i.Deleted ? `Deleted: ${i.Deleted}` : `Untagged: ${i.Untagged}`));
    });
  },
};

function platformObj(p: string): Record<string, string> {
  const [os, architecture, variant] = p.split('/');
  const o: Record<string, string> = { os };
  if (architecture) o.architecture = architecture;
  if (variant) o.variant = variant;
  return o;
}
