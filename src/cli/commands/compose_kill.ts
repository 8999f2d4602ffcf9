// berth compose kill: send a signal (SIGKILL by default) to the project's running containers.
import type { Command } from '../command.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { eachContainer, loadProjectOrName, projectContainers } from './compose_common.js';
import { enc } from '../../compose/engine/api.js';

export const command: Command = {
  spec: {
    use: 'kill [OPTIONS] [SERVICE...]',
    short: 'Force stop service containers',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'remove-orphans', type: 'bool', usage: 'Remove containers for services not defined in the Compose file' },
      { name: 'signal', short: 's', type: 'string', usage: 'SIGNAL to send to the container', def: 'SIGKILL' },
    ],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const list = await projectContainers(ctx, p, args, { all: false });
    if (list.length === 0) {
      ctx.stderr.write('no container to kill\n');
      return 0;
    }
    await eachContainer(ctx, list, 'Killing', 'Killed', (c) => ctx.client.post(`/containers/${enc(c.Id)}/kill`, { signal: flags.string('signal') || 'SIGKILL' }));
    return 0;
  },
};
