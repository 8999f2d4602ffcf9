// berth compose commit: `commit` a service's container (#1 unless --index) to an image.
import type { Command } from '../command.js';
import { composeGlobalsExcept } from './compose_flags.js';
import { delegate, loadProjectOrName, serviceContainer } from './compose_common.js';
import { command as commit } from './commit.js';

export const command: Command = {
  spec: {
    use: 'commit [OPTIONS] SERVICE [REPOSITORY[:TAG]]',
    short: "Create a new image from a service container's changes",
    flags: [
      ...composeGlobalsExcept('p'),
      { name: 'author', short: 'a', type: 'string', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
      { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
      { name: 'index', type: 'int', usage: 'index of the container if service has multiple replicas.', def: '1' },
      { name: 'message', short: 'm', type: 'string', usage: 'Commit message' },
      { name: 'pause', short: 'p', type: 'bool', usage: 'Pause container during commit', def: 'true' },
    ],
    args: { kind: 'range', min: 1, max: 2 },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const c = await serviceContainer(ctx, p, args[0], flags.int('index'), true);
    const argv = [`--pause=${flags.bool('pause')}`];
    if (flags.string('author')) argv.push('-a', flags.string('author'));
    if (flags.string('message')) argv.push('-m', flags.string('message'));
    for (const ch of flags.list('change')) argv.push('-c', ch);
    return delegate(ctx, commit, 'berth compose commit', [...argv, c.Id, ...args.slice(1)]);
  },
};
