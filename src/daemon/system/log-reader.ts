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

/** Parses the complete lines of `buf`; returns the entries and how many bytes they used. */
function parseChunk(buf: Buffer): { entries: LogEntry[]; used: number } {
  const last = buf.lastIndexOf(0x0a);
  if (last < 0) return { entries: [], used: 0 };
  const entries: LogEntry[] = [];
  for (const line of buf.subarray(0, last).toString('utf8').split('\n')) {
    const e = parseLogLine(line);
    if (e) entries.push(e);
  }
  return { entries, used: last + 1 };
}

/**
 * Reads a log that may be rotated while we read it: the rotated files
 * (`files`, oldest first) once, then the live file through an open
 * descriptor. When the live path gets a new inode (the writer reopened it
 * after a rotation, or truncated it by replacing), the old descriptor is
 * drained first, so a follower loses no line and reads none twice.
 */
export class LogFollower {
  private fh?: fs.promises.FileHandle;
  private ino?: number;
  private offset = 0;
  private pending: string[];

  /** `tail`: only the last that many entries are wanted, so older rotated files need not be read. */
  constructor(
    private live: string,
    rotated: string[],
    private tail?: number,
  ) {
    this.pending = [...rotated];
  }

  /** Everything written so far (on the first call, the whole history). */
  async read(): Promise<LogEntry[]> {
    let out: LogEntry[] = [];
    if (!this.fh) await this.openLive();
    // Descriptors, not names: a rotation while we read renames files under us.
    const opened = await Promise.all(this.pending.map((f) => fs.promises.open(f, 'r').catch(() => undefined)));
    const rotated = [...opened];
    this.pending = [];
    try {
      const live = await this.drain();
      // Newest rotated file first, until the tail is covered.
      while (rotated.length && (this.tail === undefined || out.length + live.length < this.tail)) {
        const fh = rotated.pop();
        if (fh) out = [...parseChunk(await fh.readFile()).entries, ...out];
      }
      out.push(...live);
    } finally {
      await Promise.all(opened.map((fh) => fh?.close()));
    }
    const st = await fs.promises.stat(this.live).catch(() => undefined);
    if (st && st.ino !== this.ino) {
      // Rotated: the old file is final once the new one exists.
      await this.fh?.close();
      this.fh = undefined;
      await this.openLive();
      out.push(...(await this.drain()));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }

  private async openLive(): Promise<void> {
    try {
      this.fh = await fs.promises.open(this.live, 'r');
      this.ino = (await this.fh.stat()).ino;
      this.offset = 0;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  private async drain(): Promise<LogEntry[]> {
    if (!this.fh) return [];
    const out: LogEntry[] = [];
    for (;;) {
      const { size } = await this.fh.stat();
      if (size < this.offset) this.offset = 0; // truncated in place
      if (size === this.offset) return out;
      const buf = Buffer.alloc(Math.min(size - this.offset, 4 * 1024 * 1024));
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.offset);
      const { entries, used } = parseChunk(buf.subarray(0, bytesRead));
      out.push(...entries);
      if (used === 0) return out; // a line still being written
      this.offset += used;
    }
  }
}
