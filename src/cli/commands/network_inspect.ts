// berth network inspect
import type { Command } from '../command.js';
import { enc, FORMAT_USAGE_JSON } from '../batch.js';
import { inspectAll } from './inspect.js';

export const command: Command = {
  spec: {
    use: 'inspect [OPTIONS] NETWORK [NETWORK...]',
    short: 'Display detailed information on one or more networks',
    aliases: [],
    flags: [
      { name: 'format', short: 'f', type: 'string', usage: FORMAT_USAGE_JSON },
      { name: 'verbose', short: 'v', type: 'bool', usage: 'Verbose output for diagnostics' },
    ],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    return inspectAll(ctx, args, flags.string('format'), (n) => ctx.client.get(`/networks/${enc(n)}`));
  },
};
