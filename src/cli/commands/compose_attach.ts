// berth compose attach: `attach` to a service's container (#1 unless --index).
import type { Command } from '../command.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { delegate, loadProjectOrName, serviceContainer } from './compose_common.js';
import { command as attach } from './attach.js';

export const command: Command = {
  spec: {
    use: 'attach [OPTIONS] SERVICE',
    short: "Attach local standard input, output, and error streams to a service's running container",
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching from a container.' },
      { name: 'index', type: 'int', usage: 'index of the container if service has multiple replicas.', def: '1' },
      { name: 'no-stdin', type: 'bool', usage: 'Do not attach STDIN' },
      { name: 'sig-proxy', type: 'bool', usage: 'Proxy all received signals to the process', def: 'true' },
    ],
    args: { kind: 'exact', n: 1 },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const c = await serviceContainer(ctx, p, args[0], flags.int('index'));
    const argv = [`--sig-proxy=${flags.bool('sig-proxy')}`];
    if (flags.bool('no-stdin')) argv.push('--no-stdin');
    if (flags.string('detach-keys')) argv.push('--detach-keys', flags.string('detach-keys'));
    return delegate(ctx, attach, 'berth compose attach', [...argv, c.Id]);
  },
};
