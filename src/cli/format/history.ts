// `docker history` rows: formatter.historyContext over GET /images/{name}/history.

import { GO_TYPE } from '../../common/gotemplate/index.js';
import { humanDuration, humanSizeWithPrecision } from '../../common/units.js';
import { DEFAULT_QUIET_FORMAT, RowContext, TABLE_FORMAT_KEY, writeContext } from './context.js';
import { ellipsis, goRFC3339, truncateID } from './display.js';

export const DEFAULT_HISTORY_TABLE_FORMAT = 'table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}';
export const NON_HUMAN_HISTORY_TABLE_FORMAT = 'table {{.ID}}\\t{{.CreatedAt}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}';

export const HISTORY_HEADER: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export class HistoryContext extends RowContext {
  static readonly [GO_TYPE] = '*image.historyContext';

  constructor(private readonly h: any, private readonly trunc: boolean, private readonly human: boolean, private readonly now: Date) {
    super();
  }

  ID(): string {
    const id = String(this.h.Id ?? this.h.ID ?? '');
    return this.trunc ? truncateID(id) : id;
  }
  CreatedAt(): string {
    return goRFC3339(Number(this.h.Created ?? 0));
  }
  CreatedSince(): string {
    if (!this.human) return this.CreatedAt();
    return humanDuration(this.now.getTime() - Number(this.h.Created ?? 0) * 1000) + ' ago';
  }
  CreatedBy(): string {
    const by = String(this.h.CreatedBy ?? '').replace(/\t/g, ' ');
    return this.trunc ? ellipsis(by, 45) : by;
  }
  Size(): string {
    const s = Number(this.h.Size ?? 0);
    return this.human ? humanSizeWithPrecision(s, 3) : String(s);
  }
  Comment(): string {
    return String(this.h.Comment ?? '');
  }
}

export interface FormatHistoryOptions {
  format?: string;
  quiet?: boolean;
  noTrunc?: boolean;
  /** Defaults to true, like docker's --human. */
  human?: boolean;
  now?: Date;
}

export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source === TABLE_FORMAT_KEY || source === '') {
    if (quiet) return DEFAULT_QUIET_FORMAT;
    return human ? DEFAULT_HISTORY_TABLE_FORMAT : NON_HUMAN_HISTORY_TABLE_FORMAT;
  }
  return source;
}

/** `docker history` output. */
export function formatHistory(history: any[], opts: FormatHistoryOptions = {}): string {
  const now = opts.now ?? new Date();
  const human = opts.human ?? true;
  const format = historyFormat(opts.format ?? '', !!opts.quiet, human);
  const rows = history.map((h) => new HistoryContext(h, !opts.noTrunc, human, now));
  return writeContext(format, rows, HISTORY_HEADER);
}
