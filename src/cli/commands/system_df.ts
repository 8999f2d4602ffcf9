// berth system df
import type { Command } from '../command.js';
import { FORMAT_USAGE_TABLE } from '../batch.js';
import { StatusError } from '../flags.js';
import { RowContext, renderList } from '../format/context.js';
import { humanDuration, humanSize, humanSizeWithPrecision } from '../../common/units.js';
import { ImageContext } from '../format/images.js';
import { ContainerContext } from '../format/containers.js';
import { VolumeContext } from './volume_ls.js';
import { parseNormalized, familiarName } from '../../common/reference.js';

const DEFAULT_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const HEADER = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

class DiskUsageRow extends RowContext {
  constructor(
    private type: string,
    private total: number,
    private active: number,
    private size: number,
    private reclaimable: number,
  ) {
    super();
  }
  Type(): string {
    return this.type;
  }
  TotalCount(): string {
    return String(this.total);
  }
  Active(): string {
    return String(this.active);
  }
  Size(): string {
    return humanSize(this.size);
  }
  Reclaimable(): string {
    const r = humanSize(this.reclaimable);
    return this.size > 0 ? `${r} (${Math.trunc((this.reclaimable * 100) / this.size)}%)` : r;
  }
}

export const command: Command = {
  spec: {
    use: 'df [OPTIONS]',
    short: 'Show docker disk usage',
    aliases: ['berth system df'],
    flags: [
      { name: 'format', type: 'string', usage: FORMAT_USAGE_TABLE },
      { name: 'verbose', short: 'v', type: 'bool', usage: 'Show detailed information on space usage' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const du = await ctx.client.get('/system/df');
    if (flags.bool('verbose')) {
      if (flags.string('format')) throw new StatusError('the --verbose and --format flags cannot be used together', 1);
      ctx.stdout.write(verbose(du, new Date()));
      return 0;
    }
    const images: any[] = du.Images ?? [];
    const ctrs: any[] = du.Containers ?? [];
    const imgTotal: number = du.LayersSize ?? 0;
    const imgUsed = images.filter((i) => i.Containers > 0).reduce((a, i) => a + (i.Size - (i.SharedSize > 0 ? i.SharedSize : 0)), 0);
    const active = (c: any) => c.State === 'running' || c.State === 'paused';
    const ctrTotal = ctrs.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
    const ctrReclaim = ctrs.filter((c) => !active(c)).reduce((a, c) => a + (c.SizeRw ?? 0), 0);
    const rows = [
      new DiskUsageRow('Images', images.length, images.filter((i) => i.Containers > 0).length, imgTotal, imgTotal - imgUsed),
      new DiskUsageRow('Containers', ctrs.length, ctrs.filter(active).length, ctrTotal, ctrReclaim),
      volumesRow(du.Volumes ?? []),
      buildCacheRow(du.BuildCache ?? []),
    ];
    ctx.stdout.write(renderList(flags.string('format') || undefined, rows, DEFAULT_TABLE, { header: HEADER }));
    return 0;
  },
};

class BuildCacheContext extends RowContext {
  constructor(
    private r: any,
    private now: Date,
  ) {
    super();
  }
  ID(): string {
    return String(this.r.ID ?? '').slice(0, 12);
  }
  CacheType(): string {
    return this.r.Type ?? '';
  }
  Size(): string {
    return humanSizeWithPrecision(this.r.Size ?? 0, 3);
  }
  CreatedSince(): string {
    return humanDuration(this.now.getTime() - Date.parse(this.r.CreatedAt)) + ' ago';
  }
  LastUsedSince(): string {
    return this.r.LastUsedAt ? humanDuration(this.now.getTime() - Date.parse(this.r.LastUsedAt)) + ' ago' : '';
  }
  UsageCount(): string {
    return String(this.r.UsageCount ?? 0);
  }
  Shared(): string {
    return String(!!this.r.Shared);
  }
}

const CACHE_TABLE = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';

function buildCacheVerbose(bc: any[], now: Date): string {
  const total = bc.reduce((a, b) => a + (b.Size ?? 0), 0);
  const header = { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' };
  return `\nBuild cache usage: ${humanSize(total)}\n\n` + renderList(CACHE_TABLE, bc.map((b) => new BuildCacheContext(b, now)), CACHE_TABLE, { header });
}

/** docker's build cache row: reclaimable = what no build uses right now. */
function buildCacheRow(bc: any[]): DiskUsageRow {
  const total = bc.reduce((a, b) => a + (b.Size ?? 0), 0);
  const used = bc.filter((b) => b.InUse);
  return new DiskUsageRow('Build Cache', bc.length, used.length, total, total - used.reduce((a, b) => a + (b.Size ?? 0), 0));
}

const VOLUMES_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';

/** docker's volumes row: active = referenced by a container; reclaimable = the unreferenced ones' size. */
function volumesRow(vols: any[]): DiskUsageRow {
  const size = (v: any) => (v.UsageData?.Size > 0 ? v.UsageData.Size : 0);
  const used = vols.filter((v) => v.UsageData?.RefCount > 0);
  const total = vols.reduce((a, v) => a + size(v), 0);
  return new DiskUsageRow('Local Volumes', vols.length, used.length, total, total - used.reduce((a, v) => a + size(v), 0));
}

const IMAGES_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const IMAGES_HEADER = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' };
const CONTAINERS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const CONTAINERS_HEADER = { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' };

/** docker system df -v: one table per kind; an image shows under its first tag only, as docker does. */
function verbose(du: any, now: Date): string {
  const images = (du.Images ?? []).map((i: any) => {
    let repo = '<none>';
    let tag = '<none>';
    const first: string | undefined = i.RepoTags?.[0];
    if (first && first !== '<none>:<none>') {
      try {
        const ref = parseNormalized(first);
        repo = familiarName(ref);
        tag = ref.tag ?? '<none>';
      } catch {
        /* shown as <none> */
      }
    }
    return new ImageContext(i, true, repo, tag, '', now);
  });
  const ctrs = (du.Containers ?? []).map((c: any) => new ContainerContext({ ...c, SizeRootFs: 0 }, true, now));
  return (
    'Images space usage:\n\n' +
    renderList(IMAGES_TABLE, images, IMAGES_TABLE, { header: IMAGES_HEADER }) +
    '\nContainers space usage:\n\n' +
    renderList(CONTAINERS_TABLE, ctrs, CONTAINERS_TABLE, { header: CONTAINERS_HEADER }) +
    '\nLocal Volumes space usage:\n\n' +
    renderList(VOLUMES_TABLE, (du.Volumes ?? []).map((v: any) => new VolumeContext(v)), VOLUMES_TABLE, { header: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' } }) +
    buildCacheVerbose(du.BuildCache ?? [], now)
  );
}
