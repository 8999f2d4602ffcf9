// berth network ls
import type { Command } from '../command.js';
import { buildFilters, FORMAT_USAGE_TABLE } from '../batch.js';
import { RowContext, renderList } from '../format/context.js';

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
const HEADER = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

/** docker/cli's networkContext: the fields `--format` templates see. */
export class NetworkContext extends RowContext {
  constructor(
    private n: any,
    private trunc: boolean,
  ) {
    super();
  }
  ID(): string {
    return this.trunc ? String(this.n.Id).slice(0, 12) : this.n.Id;
  }
  Name(): string {
    return this.n.Name;
  }
  Driver(): string {
    return this.n.Driver;
  }
  Scope(): string {
    return this.n.Scope;
  }
  IPv4(): string {
    return String(this.n.EnableIPv4 ?? true);
  }
  IPv6(): string {
    return String(!!this.n.EnableIPv6);
  }
  Internal(): string {
    return String(!!this.n.Internal);
  }
  Labels(): string {
    return Object.entries((this.n.Labels ?? {}) as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }
  Label(name: string): string {
    return (this.n.Labels ?? {})[name] ?? '';
  }
  CreatedAt(): string {
    // Go's time.Time String(): "2006-01-02 15:04:05.999999999 -0700 MST", in UTC here.
    const d = new Date(this.n.Created);
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') + ' +0000 UTC';
  }
}

export const command: Command = {
  spec: {
    use: 'ls [OPTIONS]',
    short: 'List networks',
    aliases: ['berth network ls', 'berth network list'],
    flags: [
      { name: 'filter', short: 'f', type: 'filter', usage: 'Provide filter values (e.g. "driver=bridge")' },
      { name: 'format', type: 'string', usage: FORMAT_USAGE_TABLE },
      { name: 'no-trunc', type: 'bool', usage: 'Do not truncate the output' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display network IDs' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const list: any[] = await ctx.client.get('/networks', { filters: buildFilters(flags.list('filter')) });
    list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    const rows = list.map((n) => new NetworkContext(n, !flags.bool('no-trunc')));
    ctx.stdout.write(renderList(flags.string('format') || undefined, rows, DEFAULT_TABLE, { quiet: flags.bool('quiet'), quietField: 'ID', header: HEADER }));
    return 0;
  },
};
