// docker/cli's formatter.Context: turns a --format value into output for a
// list of row contexts (table with header, json lines, or a raw template).

import { dockerHeaderFuncs, parseTemplate, TemplateError } from '../../common/gotemplate/index.js';
import { tabwrite } from './tabwriter.js';

export const TABLE_FORMAT_KEY = 'table';
export const JSON_FORMAT_KEY = 'json';
export const DEFAULT_QUIET_FORMAT = '{{.ID}}';
export const JSON_FORMAT = '{{json .}}';

/** Error with docker's "template parsing error: ..." prefix. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

/**
 * A row as docker's templates see it: exported no-argument methods are the
 * fields. json encoding (formatter.MarshalJSON) calls each of them.
 */
export abstract class RowContext {
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const names = new Set<string>();
    for (let p = Object.getPrototypeOf(this); p && p !== RowContext.prototype; p = Object.getPrototypeOf(p)) {
      for (const n of Object.getOwnPropertyNames(p)) names.add(n);
    }
    for (const n of [...names].sort()) {
      const fn = (this as unknown as Record<string, unknown>)[n];
      if (n === 'constructor' || typeof fn !== 'function' || fn.length !== 0 || !/^\p{Lu}/u.test(n)) continue;
      out[n] = (fn as () => unknown).call(this);
    }
    return out;
  }
}

export function isTable(format: string): boolean {
  return format.startsWith(TABLE_FORMAT_KEY);
}

/** Context.preFormat: strip "table", trim spaces, expand literal \t and \n. */
export function finalFormat(format: string): string {
  let f = format;
  if (isTable(f)) f = f.slice(TABLE_FORMAT_KEY.length);
  else if (f === JSON_FORMAT_KEY) f = JSON_FORMAT;
  f = f.replace(/^ +| +$/g, '');
  return f.replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

/** Context.Write: render rows with an already-resolved format. */
export function writeContext(format: string, rows: object[], header: Record<string, string>): string {
  let tmpl;
  try {
    tmpl = parseTemplate(finalFormat(format));
  } catch (e) {
    throw new FormatError(`template parsing error: ${e instanceof Error ? e.message : String(e)}`);
  }
  let body = '';
  for (const row of rows) {
    try {
      body += tmpl.execute(row);
    } catch (e) {
      throw new FormatError(`template parsing error: ${e instanceof Error ? e.message : String(e)}`);
    }
    body += '\n';
  }
  if (!isTable(format)) return body;
  let head: string;
  try {
    head = tmpl.execute(header, { funcs: dockerHeaderFuncs });
  } catch (e) {
    // docker ignores header errors and keeps what was written before them.
    head = e instanceof TemplateError ? e.partialOutput : '';
  }
  return tabwrite(head + '\n' + body);
}

export interface RenderListOptions {
  quiet?: boolean;
  quietField?: string;
  /** Column titles by field name (the SubHeaderContext). */
  header?: Record<string, string>;
}

/**
 * Renders rows for a --format value: undefined/"table" gives the default
 * table (or the quiet field), "table ..." a table with header, "json" one
 * JSON object per line, anything else a template per row.
 */
export function renderList(format: string | undefined, rows: object[], defaultTable: string, opts: RenderListOptions = {}): string {
  let f = format ?? '';
  if (f === '' || f === TABLE_FORMAT_KEY) {
    f = opts.quiet ? `{{.${opts.quietField ?? 'ID'}}}` : defaultTable;
  }
  return writeContext(f, rows, opts.header ?? {});
}
