// berth rm: docker's batch output.
import type { Command } from '../command.js';
import { runBatch, enc } from '../batch.js';

export const command: Command = {
  spec: {
    use: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Remove one or more containers',
    aliases: ['berth container rm', 'berth container remove', 'berth rm'],
    flags: [
      { name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of a running container (uses SIGKILL)' },
      { name: 'link', short: 'l', type: 'bool', usage: 'Remove the specified link' },
      { name: 'volumes', short: 'v', type: 'bool', usage: 'Remove anonymous volumes associated with the container' },
    ],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    const query = {
      v: flags.bool('volumes') || undefined,
      link: flags.bool('link') || undefined,
      force: flags.bool('force') || undefined,
    };
    return runBatch(ctx, args, async (name) => {
      const n = name.replace(/^\/+/, '');
      if (n === '') throw new Error('Container name cannot be empty');
      await ctx.client.request('DELETE', `/containers/${enc(n)}`, { query });
      return name;
    });
  },
};
