// berth swarm unlock: the key from a terminal (not echoed) or a line of stdin.
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { promptLine } from '../prompt.js';

export const command: Command = {
  spec: {
    use: 'unlock',
    short: 'Unlock swarm',
    aliases: ['berth swarm unlock'],
    flags: [],
    args: { kind: 'exact', n: 0 },
  },
  async run(ctx) {
    const info = await ctx.client.get('/info');
    const state = info.Swarm?.LocalNodeState ?? 'inactive';
    if (state === 'inactive') throw new StatusError('Error: This node is not part of a swarm', 1);
    if (state !== 'locked') throw new StatusError('Error: swarm is not locked', 1);
    let key: string;
    if ((ctx.stdin as { isTTY?: boolean }).isTTY) {
      key = await promptLine(ctx, 'Enter unlock key: ', { echo: false });
    } else {
      const chunks: Buffer[] = [];
      for await (const c of ctx.stdin) {
        chunks.push(c as Buffer);
        if ((c as Buffer).includes(0x0a)) break;
      }
      key = Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? '';
    }
    await ctx.client.post('/swarm/unlock', undefined, { UnlockKey: key.trim() });
    return 0;
  },
};
