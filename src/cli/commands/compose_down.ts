// berth compose down: stop and remove the project's containers (dependents first), its
// networks, and with -v its volumes, with --rmi its images.
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { guard, loadProjectOrName, progress, service, timeoutFlag } from './compose_common.js';

export const command: Command = {
  spec: {
    use: 'down [OPTIONS] [SERVICES]',
    short: 'Stop and remove containers, networks',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'remove-orphans', type: 'bool', usage: 'Remove containers for services not defined in the Compose file' },
      { name: 'rmi', type: 'string', usage: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")' },
      { name: 'timeout', short: 't', type: 'int', usage: 'Specify a shutdown timeout in seconds' },
      { name: 'volumes', short: 'v', type: 'bool', usage: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers' },
    ],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const rmi = flags.string('rmi');
    if (rmi && rmi !== 'local' && rmi !== 'all') throw new StatusError(`invalid value for --rmi: ${rmi}`, 1);
    const p = await loadProjectOrName(ctx, flags);
    const prog = progress(ctx);
    const svc = service(ctx, p, prog);
    if (args.length) {
      // `down SERVICE…` only takes those services' containers
      for (const a of args) if (!(a in p.services)) throw new StatusError(`no such service: ${a}`, 1);
      const only = { ...p, services: Object.fromEntries(Object.entries(p.services).filter(([n]) => args.includes(n))) };
      const sub = service(ctx, only, prog);
      const list = (await ctx.client.get('/containers/json', { all: 1, filters: JSON.stringify({ label: [`com.docker.compose.project=${p.name}`] }) })) as any[];
      for (const c of list.filter((x) => args.includes(x.Labels?.['com.docker.compose.service']))) await guard(() => sub.stopAndRemove(c, timeoutFlag(flags), flags.bool('volumes')));
      prog.stop();
      return 0;
    }
    await guard(() => svc.down({ removeOrphans: flags.bool('remove-orphans'), volumes: flags.bool('volumes'), rmi: rmi || undefined, timeout: timeoutFlag(flags) }));
    prog.stop();
    return 0;
  },
};
