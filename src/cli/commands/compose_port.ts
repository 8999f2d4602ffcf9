// berth compose port: the host address a service's container port is published on.
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { loadProjectOrName, serviceContainer } from './compose_common.js';
import { inspectContainer } from '../../compose/engine/api.js';

export const command: Command = {
  spec: {
    use: 'port [OPTIONS] SERVICE PRIVATE_PORT',
    short: 'Print the public port for a port binding',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'index', type: 'int', usage: 'Index of the container if service has multiple replicas', def: '1' },
      { name: 'protocol', type: 'string', usage: 'tcp or udp', def: 'tcp' },
    ],
    args: { kind: 'exact', n: 2 },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    if (!/^\d+$/.test(args[1])) throw new StatusError(`invalid port ${JSON.stringify(args[1])}`, 1);
    const c = await serviceContainer(ctx, p, args[0], flags.int('index'));
    const info = await inspectContainer(ctx.client, c.Id);
    const key = `${args[1]}/${flags.string('protocol') || 'tcp'}`;
    const binds = (info.NetworkSettings?.Ports?.[key] ?? []) as Array<{ HostIp: string; HostPort: string }>;
    if (!binds.length) throw new StatusError(`no port ${key} for container ${c.Names[0].replace(/^\//, '')}: []`, 1);
    const b = binds[0];
    ctx.stdout.write(`${b.HostIp || '0.0.0.0'}:${b.HostPort}\n`);
    return 0;
  },
};
