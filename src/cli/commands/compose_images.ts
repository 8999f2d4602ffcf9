// berth compose images: the image each of the project's containers runs.
import type { Command } from '../command.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { containerName, loadProjectOrName, projectContainers } from './compose_common.js';
import { tabwrite } from '../format/tabwriter.js';
import { enc, isNotFound } from '../../compose/engine/api.js';
import { humanSizeWithPrecision } from '../../common/units.js';

export const command: Command = {
  spec: {
    use: 'images [OPTIONS] [SERVICE...]',
    short: 'List images used by the created containers',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'format', type: 'string', usage: 'Format the output. Values: [table | json]', def: 'table' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display IDs' },
    ],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const list = await projectContainers(ctx, p, args, { all: true });
    const rows: Array<{ ContainerName: string; Repository: string; Tag: string; ID: string; Size: number }> = [];
    for (const c of list) {
      let img: any;
      try {
        img = await ctx.client.get(`/images/${enc(c.ImageID ?? c.Image)}/json`);
      } catch (e) {
        if (isNotFound(e)) continue;
        throw e;
      }
      const tags: string[] = img.RepoTags ?? [];
      const tag = tags.find((t) => t === c.Image || t === `${c.Image}:latest`) ?? tags[0] ?? '<none>:<none>';
      const i = tag.lastIndexOf(':');
      rows.push({ ContainerName: containerName(c), Repository: tag.slice(0, i), Tag: tag.slice(i + 1), ID: String(img.Id), Size: Number(img.Size ?? 0) });
    }
    if (flags.bool('quiet')) {
      ctx.stdout.write([...new Set(rows.map((r) => r.ID))].map((id) => id + '\n').join(''));
      return 0;
    }
    if (flags.string('format') === 'json') {
      ctx.stdout.write(JSON.stringify(rows) + '\n');
      return 0;
    }
    const lines = ['CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE', ...rows.map((r) => [r.ContainerName, r.Repository, r.Tag, r.ID.replace(/^sha256:/, '').slice(0, 12), humanSizeWithPrecision(r.Size, 3)].join('\t'))];
    ctx.stdout.write(tabwrite(lines.map((l) => l + '\n').join(''), { minwidth: 4, padding: 3 }));
    return 0;
  },
};
