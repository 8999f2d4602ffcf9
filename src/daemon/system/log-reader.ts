import fs from 'node:fs';

/** One record of conmon's k8s-file log: `<RFC3339Nano> stdout|stderr F|P <text>`. */
export interface LogEntry {
  /** Nanosecond timestamp text as written by conmon. */
  time: string;
  /** Seconds since the epoch (fractional), for since/until filtering. */
  seconds: number;
  stream: 'stdout' | 'stderr';
  /** The text including its trailing newline when the line was complete (F). */
  text: string;
}

export function parseLogLine(line: string): LogEntry | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const time = line.slice(0, a);
  const stream = line.slice(a + 1, b);
  const tag = line.slice(b + 1, c);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const body = line.slice(c + 1);
  return { time, seconds: timeToSeconds(time), stream, text: tag === 'P' ? body : body + '\n' };
}

/** RFC3339 with nanoseconds → seconds as a float (Date only keeps ms). */
export function timeToSeconds(t: string): number {
  const m = /^(.*?)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return Date.parse(t) / 1000;
  const whole = Date.parse(m[1]! + m[3]!) / 1000;
  return whole + (m[2] ? Number('0' + m[2]) : 0);
}

/** Docker prints log timestamps as RFC3339Nano in UTC. */
export function toRfc3339Nano(t: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return t;
  if (m[3] === 'Z' || m[3] === '+00:00') {
    const frac = (m[2] ?? '').replace(/0+$/, '');
    return `${m[1]}${frac === '.' ? '' : frac}Z`;
  }
  return new Date(Date.parse(t)).toISOString();
}

export interface ReadLogOptions {
  since?: number;
  until?: number;
  tail?: number;
}

/** Reads complete entries of a log file from a byte offset; returns entries and the new offset. */
export async function readEntries(file: string, offset: number): Promise<{ entries: LogEntry[]; offset: number }> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], offset };
    throw e;
  }
  try {
    const { size } = await fh.stat();
    if (size <= offset) return { entries: [], offset: size < offset ? 0 : offset };
    const buf = Buffer.alloc(size - offset);
    await fh.read(buf, 0, buf.length, offset);
    const last = buf.lastIndexOf(0x0a);
    if (last < 0) return { entries: [], offset };
    const text = buf.subarray(0, last).toString('utf8');
    const entries: LogEntry[] = [];
    for (const line of text.split('\n')) {
      const e = parseLogLine(line);
      if (e) entries.push(e);
    }
    return { entries, offset: offset + last + 1 };
  } finally {
    await fh.close();
  }
}

/** Applies since/until and tail (tail counts complete lines, as docker does). */
export function selectEntries(entries: LogEntry[], o: ReadLogOptions): LogEntry[] {
  let list = entries.filter((e) => (o.since === undefined || e.seconds >= o.since) && (o.until === undefined || e.seconds <= o.until));
  if (o.tail !== undefined && o.tail >= 0) list = list.slice(Math.max(0, list.length - o.tail));
  return list;
}
