// berth compose start: start existing containers in dependency order, honouring depends_on.
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { guard, loadProject, progress, selectServices, service } from './compose_common.js';
import { listContainers } from '../../compose/engine/api.js';

export const command: Command = {
  spec: {
    use: 'start [SERVICE...]',
    short: 'Start services',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'wait', type: 'bool', usage: 'Wait for services to be running|healthy. Implies detached mode.' },
      { name: 'wait-timeout', type: 'int', usage: 'Maximum duration in seconds to wait for the project to be running|healthy' },
    ],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const p = await loadProject(ctx, flags);
    const services = await guard(async () => selectServices(p, args));
    const existing = await listContainers(ctx.client, p.name, { all: true, oneoff: false, services });
    if (existing.length === 0) throw new StatusError('service "' + (args[0] ?? Object.keys(p.services)[0]) + '" has no container to start', 1);
    const prog = progress(ctx);
    const svc = service(ctx, p, prog);
    await guard(() => svc.start(services));
    if (flags.bool('wait')) await guard(() => svc.waitAll(services, flags.changed('wait-timeout') ? flags.int('wait-timeout') * 1000 : undefined));
    prog.stop();
    return 0;
  },
};
