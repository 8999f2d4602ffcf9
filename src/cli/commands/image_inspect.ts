// berth image inspect
import type { Command } from '../command.js';
import { enc, FORMAT_USAGE_JSON } from '../batch.js';
import { inspectAll } from './inspect.js';

export const command: Command = {
  spec: {
    use: 'inspect [OPTIONS] IMAGE [IMAGE...]',
    short: 'Display detailed information on one or more images',
    flags: [
      { name: 'format', short: 'f', type: 'string', usage: FORMAT_USAGE_JSON },
      { name: 'platform', type: 'string', usage: "Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)" },
    ],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    const platform = flags.string('platform') || undefined;
    return inspectAll(ctx, args, flags.string('format'), (n) => ctx.client.get(`/images/${enc(n)}/json`, { platform }));
  },
};
