// berth compose restart: restart the project's containers (dependencies first).
import type { Command } from '../command.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { eachContainer, loadProjectOrName, projectContainers, reverseDependencyOrder, timeoutFlag } from './compose_common.js';
import { enc } from '../../compose/engine/api.js';

export const command: Command = {
  spec: {
    use: 'restart [OPTIONS] [SERVICE...]',
    short: 'Restart service containers',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'no-deps', type: 'bool', usage: "Don't restart dependent services" },
      { name: 'timeout', short: 't', type: 'int', usage: 'Specify a shutdown timeout in seconds' },
    ],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const list = await projectContainers(ctx, p, args, { all: true, oneoff: false });
    for (const group of reverseDependencyOrder(p, list).reverse()) {
      await eachContainer(ctx, group, 'Restarting', 'Started', (c) => ctx.client.post(`/containers/${enc(c.Id)}/restart`, { t: timeoutFlag(flags) }));
    }
    return 0;
  },
};
