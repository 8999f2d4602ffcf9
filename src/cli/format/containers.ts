// `docker ps` rows: formatter.ContainerContext over GET /containers/json items.

import { humanDuration, humanSizeWithPrecision } from '../../common/units.js';
import { GO_TYPE, quoteGo } from '../../common/gotemplate/index.js';
import { DEFAULT_QUIET_FORMAT, RowContext, TABLE_FORMAT_KEY, writeContext } from './context.js';
import { ellipsis, goTimeString, truncateID } from './display.js';
import { familiarString, parseNormalizedNamed } from './reference.js';

export const DEFAULT_CONTAINER_TABLE_FORMAT =
  'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}';

export const CONTAINER_HEADER: Record<string, string> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** formatter.DisplayablePorts: groups consecutive ports, e.g. "0.0.0.0:80->80/tcp, 443/tcp". */
export function displayablePorts(ports: PortSummary[]): string {
  const sorted = [...ports].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
    const ia = a.IP ?? '';
    const ib = b.IP ?? '';
    if (ia !== ib) return ia < ib ? -1 : 1;
    const pa = a.PublicPort ?? 0;
    const pb = b.PublicPort ?? 0;
    if (pa !== pb) return pa - pb;
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const keys: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const p of sorted) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      keys.push(key);
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const k of keys) {
    const g = groups.get(k)!;
    result.push(formGroup(k, g.first, g.last));
  }
  return [...result, ...hostMappings].join(', ');
}

function formGroup(key: string, start: number, last: number): string {
  const parts = key.split('/');
  let type = parts[0]!;
  let ip = '';
  if (parts.length > 1) {
    ip = parts[0]!;
    type = parts[1]!;
  }
  let group = String(start);
  if (start !== last) group += `-${last}`;
  if (ip) group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}

class Platform {
  constructor(private p: { architecture?: string; os?: string; variant?: string; 'os.version'?: string }) {}
  String(): string {
    return [this.p.os ?? 'unknown', this.p.architecture ?? 'unknown', this.p.variant].filter((x) => x).join('/');
  }
  toJSON(): unknown {
    return this.p;
  }
}


/** One container row; method names are the template fields. */
export class ContainerContext extends RowContext {
  static readonly [GO_TYPE] = '*formatter.ContainerContext';

  constructor(private readonly c: any, private readonly trunc: boolean, private readonly now: Date) {
    super();
  }

  ID(): string {
    const id = String(this.c.Id ?? this.c.ID ?? '');
    return this.trunc ? truncateID(id) : id;
  }

  Names(): string {
    const names: string[] = (this.c.Names ?? []).map((n: string) => n.replace(/^\//, ''));
    if (!this.trunc) return names.join(',');
    // Skip legacy link names ("/other/alias") when truncating.
    return names.find((n) => !n.includes('/')) ?? '';
  }

  Image(): string {
    const image = String(this.c.Image ?? '');
    if (image === '') return '<no image>';
    if (!this.trunc) return image;
    if (truncateID(String(this.c.ImageID ?? '')) === truncateID(image)) return truncateID(image);
    const ref = parseNormalizedNamed(image);
    if (!ref) return image;
    if (ref.digest !== undefined) delete ref.digest;
    return familiarString(ref);
  }

  Command(): string {
    let cmd = String(this.c.Command ?? '');
    if (this.trunc) cmd = ellipsis(cmd, 20);
    return quoteGo(cmd);
  }

  CreatedAt(): string {
    return goTimeString(Number(this.c.Created ?? 0));
  }

  RunningFor(): string {
    return humanDuration(this.now.getTime() - Number(this.c.Created ?? 0) * 1000) + ' ago';
  }

  Platform(): Platform | null {
    const p = this.c.ImageManifestDescriptor?.platform;
    return p ? new Platform(p) : null;
  }

  Ports(): string {
    return displayablePorts(this.c.Ports ?? []);
  }

  State(): string {
    return String(this.c.State ?? '');
  }

  Status(): string {
    return String(this.c.Status ?? '');
  }

  Size(): string {
    const srw = humanSizeWithPrecision(Number(this.c.SizeRw ?? 0), 3);
    const rootfs = Number(this.c.SizeRootFs ?? 0);
    return rootfs > 0 ? `${srw} (virtual ${humanSizeWithPrecision(rootfs, 3)})` : srw;
  }

  Labels(): string {
    const l = this.c.Labels;
    if (!l) return '';
    return Object.entries(l).map(([k, v]) => `${k}=${v}`).sort().join(',');
  }

  Label(name: string): string {
    return this.c.Labels?.[name] ?? '';
  }

  Mounts(): string {
    return (this.c.Mounts ?? [])
      .map((m: any) => {
        const name = String(m.Name ? m.Name : m.Source ?? '');
        return this.trunc ? ellipsis(name, 15) : name;
      })
      .join(',');
  }

  LocalVolumes(): string {
    return String((this.c.Mounts ?? []).filter((m: any) => m.Driver === 'local').length);
  }

  Networks(): string {
    const n = this.c.NetworkSettings?.Networks;
    if (!n) return '';
    // Go map order is random; sorted is the stable choice.
    return Object.keys(n).sort().join(',');
  }
}

export interface FormatContainersOptions {
  format?: string;
  quiet?: boolean;
  noTrunc?: boolean;
  size?: boolean;
  now?: Date;
}

/** formatter.NewContainerFormat. */
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === TABLE_FORMAT_KEY || source === '') {
    if (quiet) return DEFAULT_QUIET_FORMAT;
    return DEFAULT_CONTAINER_TABLE_FORMAT + (size ? '\\t{{.Size}}' : '');
  }
  if (source === 'raw') {
    if (quiet) return 'container_id: {{.ID}}';
    return (
      'container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\n' +
      'state: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\n' +
      'labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n' +
      (size ? 'size: {{.Size}}\\n' : '')
    );
  }
  return quiet ? DEFAULT_QUIET_FORMAT : source;
}

/** `docker ps` output for GET /containers/json items. */
export function formatContainers(list: any[], opts: FormatContainersOptions = {}): string {
  const now = opts.now ?? new Date();
  const format = containerFormat(opts.format ?? '', !!opts.quiet, !!opts.size);
  const rows = list.map((c) => new ContainerContext(c, !opts.noTrunc, now));
  return writeContext(format, rows, CONTAINER_HEADER);
}
