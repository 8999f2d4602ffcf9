// berth compose stats: `stats` over the project's containers.
import type { Command } from '../command.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { containerName, delegate, loadProjectOrName, projectContainers } from './compose_common.js';
import { command as stats } from './stats.js';

export const command: Command = {
  spec: {
    use: 'stats [OPTIONS] [SERVICE]',
    short: 'Display a live stream of container(s) resource usage statistics',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
      { name: 'format', type: 'string', usage: 'Format output using a custom template' },
      { name: 'no-stream', type: 'bool', usage: 'Disable streaming stats and only pull the first result' },
      { name: 'no-trunc', type: 'bool', usage: 'Do not truncate output' },
    ],
    args: { kind: 'max', n: 1 },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const list = await projectContainers(ctx, p, args, { all: flags.bool('all') });
    const argv: string[] = [];
    if (flags.bool('no-stream')) argv.push('--no-stream');
    if (flags.bool('no-trunc')) argv.push('--no-trunc');
    if (flags.bool('all')) argv.push('-a');
    if (flags.string('format')) argv.push('--format', flags.string('format'));
    // docker stats without names would show every container on the engine
    if (list.length === 0) return 0;
    return delegate(ctx, stats, 'berth compose stats', [...argv, ...list.map(containerName)]);
  },
};
