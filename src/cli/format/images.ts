// `docker images` rows: formatter.imageContext over GET /images/json items.

import { GO_TYPE } from '../../common/gotemplate/index.js';
import { humanDuration, humanSize, humanSizeWithPrecision } from '../../common/units.js';
import { DEFAULT_QUIET_FORMAT, isTable, RowContext, TABLE_FORMAT_KEY, writeContext } from './context.js';
import { goTimeString, truncateID } from './display.js';
import { familiarName, parseNormalizedNamed } from './reference.js';

export const DEFAULT_IMAGE_TABLE_FORMAT =
  'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\\t{{.Size}}';
export const DEFAULT_IMAGE_TABLE_FORMAT_WITH_DIGEST =
  'table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\\t{{.Size}}';

export const IMAGE_HEADER: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

export class ImageContext extends RowContext {
  static readonly [GO_TYPE] = '*formatter.imageContext';

  constructor(
    private readonly i: any,
    private readonly trunc: boolean,
    private readonly repo: string,
    private readonly tag: string,
    private readonly digest: string,
    private readonly now: Date,
  ) {
    super();
  }

  ID(): string {
    const id = String(this.i.Id ?? this.i.ID ?? '');
    return this.trunc ? truncateID(id) : id;
  }
  Repository(): string {
    return this.repo;
  }
  Tag(): string {
    return this.tag;
  }
  Digest(): string {
    return this.digest;
  }
  CreatedSince(): string {
    return humanDuration(this.now.getTime() - Number(this.i.Created ?? 0) * 1000) + ' ago';
  }
  CreatedAt(): string {
    return goTimeString(Number(this.i.Created ?? 0));
  }
  Size(): string {
    return humanSizeWithPrecision(Number(this.i.Size ?? 0), 3);
  }
  Containers(): string {
    const n = Number(this.i.Containers ?? -1);
    return n === -1 ? 'N/A' : String(n);
  }
  VirtualSize(): string {
    return humanSize(Number(this.i.Size ?? 0));
  }
  SharedSize(): string {
    const s = Number(this.i.SharedSize ?? -1);
    return s === -1 ? 'N/A' : humanSize(s);
  }
  UniqueSize(): string {
    const size = Number(this.i.Size ?? -1);
    const shared = Number(this.i.SharedSize ?? -1);
    return size === -1 || shared === -1 ? 'N/A' : humanSize(size - shared);
  }
}

export interface FormatImagesOptions {
  format?: string;
  quiet?: boolean;
  noTrunc?: boolean;
  digests?: boolean;
  now?: Date;
}

/** formatter.NewImageFormat. */
export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === TABLE_FORMAT_KEY || source === '') {
    if (quiet) return DEFAULT_QUIET_FORMAT;
    return digest ? DEFAULT_IMAGE_TABLE_FORMAT_WITH_DIGEST : DEFAULT_IMAGE_TABLE_FORMAT;
  }
  if (source === 'raw') {
    if (quiet) return 'image_id: {{.ID}}';
    return (
      'repository: {{ .Repository }}\ntag: {{.Tag}}\n' +
      (digest ? 'digest: {{.Digest}}\n' : '') +
      'image_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n'
    );
  }
  if (isTable(source) && digest && !source.includes('{{.Digest}}')) return source + '\\t{{.Digest}}';
  return source;
}

function isDangling(img: any): boolean {
  const tags: string[] = img.RepoTags ?? [];
  const digests: string[] = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/** One row per repository:tag (and per digest when digests are shown), as docker lists them. */
function imageRows(img: any, trunc: boolean, showDigest: boolean, needDigest: boolean, now: Date): ImageContext[] {
  const mk = (repo: string, tag: string, digest: string): ImageContext => new ImageContext(img, trunc, repo, tag, digest, now);
  if (isDangling(img)) return [mk('<none>', '<none>', '<none>')];
  const repoTags = new Map<string, string[]>();
  const repoDigests = new Map<string, string[]>();
  for (const s of img.RepoTags ?? []) {
    const r = parseNormalizedNamed(s);
    if (!r || r.tag === undefined || r.digest !== undefined) continue;
    const name = familiarName(r);
    repoTags.set(name, [...(repoTags.get(name) ?? []), r.tag]);
  }
  for (const s of img.RepoDigests ?? []) {
    const r = parseNormalizedNamed(s);
    if (!r || r.digest === undefined) continue;
    const name = familiarName(r);
    repoDigests.set(name, [...(repoDigests.get(name) ?? []), r.digest]);
  }
  const rows: ImageContext[] = [];
  for (const [repo, tags] of repoTags) {
    let digests = repoDigests.get(repo) ?? [];
    repoDigests.delete(repo);
    if (!needDigest) digests = [];
    for (const tag of tags) {
      if (digests.length === 0) rows.push(mk(repo, tag, '<none>'));
      else for (const d of digests) rows.push(mk(repo, tag, d));
    }
  }
  for (const [repo, digests] of repoDigests) {
    if (showDigest) for (const d of digests) rows.push(mk(repo, '<none>', d));
    else rows.push(mk(repo, '<none>', ''));
  }
  return rows;
}

/** `docker images` output for GET /images/json items. */
export function formatImages(list: any[], opts: FormatImagesOptions = {}): string {
  const now = opts.now ?? new Date();
  const format = imageFormat(opts.format ?? '', !!opts.quiet, !!opts.digests);
  const needDigest = !!opts.digests || format.includes('{{.Digest}}');
  const rows = list.flatMap((img) => imageRows(img, !opts.noTrunc, !!opts.digests, needDigest, now));
  return writeContext(format, rows, IMAGE_HEADER);
}
