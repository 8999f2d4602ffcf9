// stop and restart take the same flags and differ only in the endpoint they call.
// -t is sent only when given, so the container's own StopTimeout applies otherwise.
import type { Command } from './command.js';
import { runBatch, enc } from './batch.js';

export function stopLikeCommand(action: 'stop' | 'restart', short: string): Command {
  return {
    spec: {
      use: `${action} [OPTIONS] CONTAINER [CONTAINER...]`,
      short,
      aliases: [`berth container ${action}`, `berth ${action}`],
      flags: [
        { name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' },
        { name: 'time', type: 'int', usage: 'Seconds to wait before killing the container (deprecated: use --timeout)', def: '0', hidden: true },
        { name: 'timeout', short: 't', type: 'int', usage: 'Seconds to wait before killing the container', def: '0' },
      ],
      args: { kind: 'min', n: 1 },
    },
    run(ctx, flags, args) {
      const t = flags.changed('timeout') ? flags.int('timeout') : flags.changed('time') ? flags.int('time') : undefined;
      const signal = flags.string('signal') || undefined;
      return runBatch(ctx, args, async (name) => {
        await ctx.client.post(`/containers/${enc(name)}/${action}`, { signal, t });
        return name;
      });
    },
  };
}
