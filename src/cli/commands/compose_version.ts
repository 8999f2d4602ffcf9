// berth compose version: the Compose version berth's compose implements.
import type { Command } from '../command.js';
import { composeGlobalsExcept } from './compose_flags.js';
import { StatusError } from '../flags.js';
import { COMPOSE_VERSION } from '../../compose/engine/names.js';

export const command: Command = {
  spec: {
    use: 'version [OPTIONS]',
    short: 'Show the Docker Compose version information',
    flags: [
      ...composeGlobalsExcept('f'),
      { name: 'format', short: 'f', type: 'string', usage: 'Format the output. Values: [pretty | json]. (Default: pretty)' },
      { name: 'short', type: 'bool', usage: 'Shows only Compose\'s version number' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const v = `v${COMPOSE_VERSION}`;
    if (flags.bool('short')) ctx.stdout.write(COMPOSE_VERSION + '\n');
    else if (flags.string('format') === 'json') ctx.stdout.write(JSON.stringify({ version: v }) + '\n');
    else if (flags.string('format') && flags.string('format') !== 'pretty') throw new StatusError(`invalid format ${JSON.stringify(flags.string('format'))}: must be pretty or json`, 1);
    else ctx.stdout.write(`Docker Compose version ${v}\n`);
    return 0;
  },
};
