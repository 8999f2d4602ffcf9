// berth compose cp: `cp` with SERVICE:PATH naming a service's container (#1 unless --index).
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { delegate, loadProjectOrName, serviceContainer } from './compose_common.js';
import { command as cp } from './cp.js';

export const command: Command = {
  spec: {
    use: 'cp [OPTIONS] SERVICE:SRC_PATH DEST_PATH|-',
    short: 'Copy files/folders between a service container and the local filesystem',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'all', type: 'bool', usage: 'Include containers created by the run command', hidden: true },
      { name: 'archive', short: 'a', type: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
      { name: 'follow-link', short: 'L', type: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
      { name: 'index', type: 'int', usage: 'Index of the container if service has multiple replicas' },
    ],
    args: { kind: 'exact', n: 2 },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const svcArg = args.findIndex((a) => /^[^/.][^:]*:/.test(a));
    if (svcArg < 0) throw new StatusError('one of the paths must name a service as SERVICE:PATH', 1);
    const [svc, ...rest] = args[svcArg].split(':');
    const c = await serviceContainer(ctx, p, svc, flags.changed('index') ? flags.int('index') : 1, true);
    const out = [...args];
    out[svcArg] = `${c.Id}:${rest.join(':')}`;
    const argv: string[] = [];
    if (flags.bool('archive')) argv.push('-a');
    if (flags.bool('follow-link')) argv.push('-L');
    return delegate(ctx, cp, 'berth compose cp', [...argv, ...out]);
  },
};
