// docker's `events` output: the default line format and the template data.

/** An event as the API sends it; the template sees Go's field names, `json` the API's keys. */
export class EventRow {
  Status?: string;
  ID?: string;
  From?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  Scope: string;
  Time: number;
  TimeNano: number;
  constructor(private raw: Record<string, any>) {
    this.Status = raw.status ?? '';
    this.ID = raw.id ?? '';
    this.From = raw.from ?? '';
    this.Type = raw.Type ?? '';
    this.Action = raw.Action ?? '';
    this.Actor = { ID: raw.Actor?.ID ?? '', Attributes: raw.Actor?.Attributes ?? {} };
    this.Scope = raw.scope ?? '';
    this.Time = raw.time ?? 0;
    this.TimeNano = raw.timeNano ?? 0;
  }
  toJSON(): unknown {
    const r = this.raw;
    const out: Record<string, unknown> = {};
    if (r.status) out.status = r.status;
    if (r.id) out.id = r.id;
    if (r.from) out.from = r.from;
    Object.assign(out, { Type: this.Type, Action: this.Action, Actor: this.Actor, scope: this.Scope, time: this.Time, timeNano: this.TimeNano });
    return out;
  }
}

/** Go's "2006-01-02T15:04:05.000000000Z07:00" in the local zone, from nanoseconds since the epoch. */
export function rfc3339NanoFixed(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const nanos = String(timeNano % 1_000_000_000n).padStart(9, '0');
  const offMin = -new Date(ms).getTimezoneOffset();
  const local = new Date(ms + offMin * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const zone = offMin === 0 ? 'Z' : `${offMin > 0 ? '+' : '-'}${p(Math.floor(Math.abs(offMin) / 60))}:${p(Math.abs(offMin) % 60)}`;
  return (
    `${p(local.getUTCFullYear(), 4)}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())}T` +
    `${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}.${nanos}${zone}`
  );
}

/** docker's prettyPrintEvent: time, type, action, actor ID and the sorted attributes. */
export function prettyEvent(e: Record<string, any>): string {
  let s = '';
  if (e.timeNano) s += rfc3339NanoFixed(BigInt(e.timeNano)) + ' ';
  else if (e.time) s += rfc3339NanoFixed(BigInt(e.time) * 1_000_000_000n) + ' ';
  s += `${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}`;
  const attrs: Record<string, string> = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return s + '\n';
}
