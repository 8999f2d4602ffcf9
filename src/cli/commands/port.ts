// berth port
import type { Command } from '../command.js';
import { enc } from '../batch.js';
import { StatusError } from '../flags.js';

export const command: Command = {
  spec: {
    use: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
    short: 'List port mappings or a specific mapping for the container',
    aliases: ['berth container port', 'berth port'],
    flags: [],
    args: { kind: 'range', min: 1, max: 2 },
  },
  async run(ctx, _flags, args) {
    const c = await ctx.client.get(`/containers/${enc(args[0]!)}/json`);
    const ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = c.NetworkSettings?.Ports ?? {};
    const fmt = (b: { HostIp: string; HostPort: string }) => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
    if (args.length === 2) {
      let [port, proto = 'tcp'] = args[1]!.split('/');
      if (!/^\d+$/.test(port!)) throw new StatusError(`Error: invalid port (${port}): strconv.ParseUint: parsing "${port}": invalid syntax`, 1);
      const key = `${port}/${proto}`;
      const bindings = ports[key];
      if (!bindings || bindings.length === 0) throw new StatusError(`Error: No public port '${key}' published for ${args[0]}`, 1);
      ctx.stdout.write(bindings.map((b) => fmt(b) + '\n').join(''));
      return 0;
    }
    const lines: string[] = [];
    const keys = Object.keys(ports).sort((a, b) => Number(a.split('/')[0]) - Number(b.split('/')[0]) || (a < b ? -1 : 1));
    for (const k of keys) for (const b of ports[k] ?? []) lines.push(`${k} -> ${fmt(b)}`);
    ctx.stdout.write(lines.map((l) => l + '\n').join(''));
    return 0;
  },
};
