// berth compose unpause: unpause the project's paused containers.
import type { Command } from '../command.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { eachContainer, loadProjectOrName, projectContainers } from './compose_common.js';
import { enc } from '../../compose/engine/api.js';

export const command: Command = {
  spec: {
    use: 'unpause [SERVICE...]',
    short: 'Unpause services',
    flags: [...COMPOSE_GLOBAL_FLAGS],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const list = (await projectContainers(ctx, p, args, { all: true })).filter((c) => c.State === 'paused');
    await eachContainer(ctx, list, 'Unpausing', 'Unpaused', (c) => ctx.client.post(`/containers/${enc(c.Id)}/unpause`));
    return 0;
  },
};
