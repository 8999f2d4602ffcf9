// berth network connect
import type { Command } from '../command.js';
import { enc } from '../batch.js';

export const command: Command = {
  spec: {
    use: 'connect [OPTIONS] NETWORK CONTAINER',
    short: 'Connect a container to a network',
    aliases: [],
    flags: [
      { name: 'alias', type: 'strings', usage: 'Add network-scoped alias for the container' },
      { name: 'driver-opt', type: 'strings', usage: 'driver options for the network' },
      { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., "172.30.100.104")' },
      { name: 'ip6', type: 'string', usage: 'IPv6 address (e.g., "2001:db8::33")' },
      { name: 'link', type: 'list', usage: 'Add link to another container' },
      { name: 'link-local-ip', type: 'strings', usage: 'Add a link-local address for the container' },
    ],
    args: { kind: 'exact', n: 2 },
  },
  async run(ctx, flags, args) {
    const ep: Record<string, unknown> = {};
    if (flags.string('ip') || flags.string('ip6') || flags.list('link-local-ip').length) {
      ep.IPAMConfig = { IPv4Address: flags.string('ip'), IPv6Address: flags.string('ip6'), LinkLocalIPs: flags.list('link-local-ip') };
    }
    if (flags.list('link').length) ep.Links = flags.list('link');
    if (flags.list('alias').length) ep.Aliases = flags.list('alias');
    const opts: Record<string, string> = {};
    for (const o of flags.list('driver-opt')) {
      const i = o.indexOf('=');
      opts[i < 0 ? o : o.slice(0, i)] = i < 0 ? '' : o.slice(i + 1);
    }
    if (Object.keys(opts).length) ep.DriverOpts = opts;
    await ctx.client.post(`/networks/${enc(args[0]!)}/connect`, undefined, { Container: args[1], EndpointConfig: ep });
    return 0;
  },
};
