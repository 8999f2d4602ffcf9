// berth volume inspect
import type { Command } from '../command.js';
import { enc, FORMAT_USAGE_JSON } from '../batch.js';
import { inspectAll } from './inspect.js';

export const command: Command = {
  spec: {
    use: 'inspect [OPTIONS] VOLUME [VOLUME...]',
    short: 'Display detailed information on one or more volumes',
    aliases: ['berth volume inspect'],
    flags: [{ name: 'format', short: 'f', type: 'string', usage: FORMAT_USAGE_JSON }],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    return inspectAll(ctx, args, flags.string('format'), (n) => ctx.client.get(`/volumes/${enc(n)}`));
  },
};
