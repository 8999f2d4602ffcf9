// berth logs: demultiplexed unless the container has a TTY.
import type { Command } from '../command.js';
import { enc } from '../batch.js';
import { copyOutput } from '../client.js';
import { StatusError } from '../flags.js';
import { parseTimestamp } from '../../common/units.js';

export function apiTimestamp(value: string, now: Date): string {
  const n = parseTimestamp(value, now);
  if (Number.isInteger(n)) return String(n);
  const sec = Math.floor(n);
  return `${sec}.${String(Math.round((n - sec) * 1e9)).padStart(9, '0')}`;
}

export const command: Command = {
  spec: {
    use: 'logs [OPTIONS] CONTAINER',
    short: 'Fetch the logs of a container',
    aliases: ['berth container logs', 'berth logs'],
    flags: [
      { name: 'details', type: 'bool', usage: 'Show extra details provided to logs' },
      { name: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
      { name: 'since', type: 'string', usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
      { name: 'tail', short: 'n', type: 'string', usage: 'Number of lines to show from the end of the logs', def: 'all' },
      { name: 'timestamps', short: 't', type: 'bool', usage: 'Show timestamps' },
      { name: 'until', type: 'string', usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    ],
    args: { kind: 'exact', n: 1 },
  },
  async run(ctx, flags, args) {
    const info = await ctx.client.get(`/containers/${enc(args[0])}/json`);
    const now = new Date();
    let since: string | undefined;
    let until: string | undefined;
    try {
      if (flags.string('since')) since = apiTimestamp(flags.string('since'), now);
      if (flags.string('until')) until = apiTimestamp(flags.string('until'), now);
    } catch (e) {
      throw new StatusError((e as Error).message, 1);
    }
    const res = await ctx.client.stream('GET', `/containers/${enc(info.Id ?? args[0])}/logs`, {
      query: {
        stdout: 1,
        stderr: 1,
        since,
        until,
        timestamps: flags.bool('timestamps') || undefined,
        follow: flags.bool('follow') || undefined,
        tail: flags.string('tail') || 'all',
        details: flags.bool('details') || undefined,
      },
    });
    await copyOutput(res, !!info.Config?.Tty, ctx.stdout, ctx.stderr);
    return 0;
  },
};
