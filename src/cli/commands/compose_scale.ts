// berth compose scale: set services' replica counts (`web=3`), as `up -d --scale` without recreating.
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { guard, loadProject, progress, selectServices, service } from './compose_common.js';
import { parseScale } from './compose_up.js';

export const command: Command = {
  spec: {
    use: 'scale [SERVICE=REPLICAS...]',
    short: 'Scale services ',
    flags: [...COMPOSE_GLOBAL_FLAGS, { name: 'no-deps', type: 'bool', usage: "Don't start linked services" }],
    args: { kind: 'min', n: 1 },
  },
  async run(ctx, flags, args) {
    const scale = parseScale(args);
    const p = await loadProject(ctx, flags, Object.keys(scale));
    for (const s of Object.keys(scale)) if (!(s in p.services)) throw new StatusError(`no such service: ${s}`, 1);
    const services = await guard(async () => selectServices(p, Object.keys(scale), !flags.bool('no-deps')));
    const prog = progress(ctx);
    const svc = service(ctx, p, prog);
    await guard(async () => {
      await svc.ensureImages(services, { build: 'auto' });
      await svc.ensureResources(services);
      await svc.converge(services, { recreate: 'never', scale });
      await svc.start(services);
    });
    prog.stop();
    return 0;
  },
};
