// berth volume ls
import type { Command } from '../command.js';
import { buildFilters, FORMAT_USAGE_TABLE } from '../batch.js';
import { RowContext, renderList } from '../format/context.js';
import { humanSize } from '../../common/units.js';

const DEFAULT_TABLE = 'table {{.Driver}}\t{{.Name}}';
const HEADER = { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE' };

/** docker/cli's volumeContext: the fields `--format` templates see. */
export class VolumeContext extends RowContext {
  constructor(private v: any) {
    super();
  }
  Name(): string {
    return this.v.Name;
  }
  Driver(): string {
    return this.v.Driver;
  }
  Scope(): string {
    return this.v.Scope;
  }
  Mountpoint(): string {
    return this.v.Mountpoint;
  }
  Labels(): string {
    const l: Record<string, string> = this.v.Labels ?? {};
    return Object.entries(l)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }
  Label(name: string): string {
    return (this.v.Labels ?? {})[name] ?? '';
  }
  Links(): string {
    const n = this.v.UsageData?.RefCount;
    return n === undefined || n < 0 ? 'N/A' : String(n);
  }
  Size(): string {
    const n = this.v.UsageData?.Size;
    return n === undefined || n < 0 ? 'N/A' : humanSize(n);
  }
}

export const command: Command = {
  spec: {
    use: 'ls [OPTIONS]',
    short: 'List volumes',
    aliases: ['berth volume ls', 'berth volume list'],
    flags: [
      { name: 'cluster', type: 'bool', usage: 'Display only cluster volumes, and use cluster volume list formatting', hidden: true },
      { name: 'filter', short: 'f', type: 'filter', usage: 'Provide filter values (e.g. "dangling=true")' },
      { name: 'format', type: 'string', usage: FORMAT_USAGE_TABLE },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display volume names' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const r = await ctx.client.get('/volumes', { filters: buildFilters(flags.list('filter')) });
    const vols: any[] = [...(r.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    const rows = vols.map((v) => new VolumeContext(v));
    ctx.stdout.write(renderList(flags.string('format') || undefined, rows, DEFAULT_TABLE, { quiet: flags.bool('quiet'), quietField: 'Name', header: HEADER }));
    return 0;
  },
};
