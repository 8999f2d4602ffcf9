// berth compose export: `export` a service's container filesystem as a tar.
import type { Command } from '../command.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { delegate, loadProjectOrName, serviceContainer } from './compose_common.js';
import { command as exportCmd } from './export.js';

export const command: Command = {
  spec: {
    use: 'export [OPTIONS] SERVICE',
    short: "Export a service container's filesystem as a tar archive",
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'index', type: 'int', usage: 'index of the container if service has multiple replicas.', def: '1' },
      { name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' },
    ],
    args: { kind: 'exact', n: 1 },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const c = await serviceContainer(ctx, p, args[0], flags.int('index'), true);
    const argv = flags.string('output') ? ['-o', flags.string('output')] : [];
    return delegate(ctx, exportCmd, 'berth compose export', [...argv, c.Id]);
  },
};
