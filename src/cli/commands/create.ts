// berth create: the create half of run; prints the new container's ID.
import type { Command } from '../command.js';
import { containerFlags, buildCreateRequest } from '../containeropts.js';
import { createContainer, runError } from '../createcontainer.js';
import type { StatusError } from '../flags.js';

export const command: Command = {
  spec: {
    use: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
    short: 'Create a new container',
    aliases: ['berth container create', 'berth create'],
    flags: containerFlags,
    args: { kind: 'min', n: 1 },
    stopAtFirstArg: true,
  },
  async run(ctx, flags, args) {
    let req;
    try {
      req = buildCreateRequest(flags, args, ctx.env, false);
    } catch (e) {
      throw runError(ctx.path, (e as Error).message, (e as StatusError).status ?? 125);
    }
    try {
      const res = await createContainer(ctx, req, flags.string('pull') || 'missing', flags.bool('quiet'), flags.string('cidfile'));
      ctx.stdout.write(res.Id + '\n');
    } catch (e) {
      throw runError(ctx.path, (e as Error).message, 125);
    }
    return 0;
  },
};
