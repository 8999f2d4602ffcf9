// berth container inspect
import type { Command } from '../command.js';
import { enc, FORMAT_USAGE_JSON } from '../batch.js';
import { inspectAll } from './inspect.js';

export const command: Command = {
  spec: {
    use: 'inspect [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Display detailed information on one or more containers',
    flags: [
      { name: 'format', short: 'f', type: 'string', usage: FORMAT_USAGE_JSON },
      { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
    ],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    const size = flags.bool('size');
    return inspectAll(ctx, args, flags.string('format'), (n) =>
      ctx.client.get(`/containers/${enc(n)}/json`, size ? { size: 1 } : undefined),
    );
  },
};
