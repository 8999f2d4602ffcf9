// `docker compose ps` rows: docker's container row plus compose's fields (Name, Service,
// Project, Health, ExitCode, Publishers), and compose's default columns.
import { GO_TYPE } from '../../common/gotemplate/index.js';
import { ContainerContext, CONTAINER_HEADER } from './containers.js';
import { writeContext } from './context.js';

export const COMPOSE_PS_TABLE = 'table {{.Name}}\\t{{.Image}}\\t{{.Command}}\\t{{.Service}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}';

export const COMPOSE_PS_HEADER: Record<string, string> = { ...CONTAINER_HEADER, Name: 'NAME', Service: 'SERVICE', Project: 'PROJECT', Health: 'HEALTH', ExitCode: 'EXIT CODE', Publishers: 'PUBLISHERS' };

export class ComposeContainerContext extends ContainerContext {
  static override readonly [GO_TYPE] = '*formatter.ContainerContext';

  constructor(private readonly item: any, trunc: boolean, now: Date) {
    super(item, trunc, now);
  }

  Name(): string {
    return String(this.item.Names?.[0] ?? '').replace(/^\//, '');
  }

  override Image(): string {
    return String(this.item.Image ?? '');
  }

  Service(): string {
    return this.item.Labels?.['com.docker.compose.service'] ?? '';
  }

  Project(): string {
    return this.item.Labels?.['com.docker.compose.project'] ?? '';
  }

  Health(): string {
    const m = /\((healthy|unhealthy|health: starting)\)/.exec(String(this.item.Status ?? ''));
    return m ? m[1].replace('health: ', '') : '';
  }

  ExitCode(): number {
    const m = /^Exited \((\d+)\)/.exec(String(this.item.Status ?? ''));
    return m ? Number(m[1]) : 0;
  }

  Publishers(): Array<{ URL: string; TargetPort: number; PublishedPort: number; Protocol: string }> {
    return (this.item.Ports ?? []).map((p: any) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type }));
  }
}

export function formatComposePs(list: any[], format: string, noTrunc: boolean, now = new Date()): string {
  let f = format;
  if (f === '' || f === 'table') f = COMPOSE_PS_TABLE;
  else if (f === 'json') f = '{{json .}}';
  const rows = list.map((c) => new ComposeContainerContext(c, !noTrunc, now));
  return writeContext(f, rows, COMPOSE_PS_HEADER);
}
