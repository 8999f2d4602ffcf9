// berth compose wait: block until a container of the services stops; exit with its code.
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { guard, loadProjectOrName, progress, projectContainers, service } from './compose_common.js';
import { waitExit } from '../../compose/engine/output.js';

export const command: Command = {
  spec: {
    use: 'wait SERVICE [SERVICE...] [OPTIONS]',
    short: 'Block until containers of all (or specified) services stop.',
    flags: [...COMPOSE_GLOBAL_FLAGS, { name: 'down-project', type: 'bool', usage: 'Drops project when the first container stops' }],
    args: { kind: 'min', n: 1 },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    // stopped ones count too: their exit code is the answer at once
    const list = await projectContainers(ctx, p, args, { all: true, oneoff: false });
    if (list.length === 0) throw new StatusError(`no containers for project "${p.name}"`, 1);
    const code = await Promise.race(list.map((c) => waitExit(ctx.client, c.Id)));
    if (flags.bool('down-project')) {
      const prog = progress(ctx);
      await guard(() => service(ctx, p, prog).down({ removeOrphans: false, volumes: false }));
      prog.stop();
    }
    return code;
  },
};
