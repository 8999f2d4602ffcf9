// berth system df
import type { Command } from '../command.js';
import { FORMAT_USAGE_TABLE } from '../batch.js';
import { StatusError } from '../flags.js';
import { RowContext, renderList } from '../format/context.js';
import { humanSize } from '../../common/units.js';
import { ImageContext } from '../format/images.js';
import { ContainerContext } from '../format/containers.js';
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
      new DiskUsageRow('Local Volumes', 0, 0, 0, 0),
      new DiskUsageRow('Build Cache', 0, 0, 0, 0),
    ];
    ctx.stdout.write(renderList(flags.string('format') || undefined, rows, DEFAULT_TABLE, { header: HEADER }));
    return 0;
  },
};

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
    '\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\n' +
    '\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n'
  );
}
