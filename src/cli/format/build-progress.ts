// BuildKit-style progress (`#5 [2/4] RUN …`, `#5 CACHED`, `#5 DONE 0.3s`) from berthd's
// structured build events (`{"berthBuild":{…}}`), with the CLI's own "[internal]" steps first.

export interface ProgressSink {
  write(s: string): unknown;
}

const secs = (ms: number) => (ms / 1000).toFixed(1);

export class BuildProgress {
  private starts = new Map<number, number>();
  private partial = new Map<number, string>();
  private offset = 0;
  private next = 1;

  constructor(private readonly out: ProgressSink) {}

  /** A step the CLI itself did (loading the definition, sending the context). */
  internal(name: string, detail: string): void {
    const v = this.next++;
    this.out.write(`#${v} ${name}\n`);
    if (detail) this.out.write(`#${v} ${detail}\n`);
    this.out.write(`#${v} DONE 0.0s\n\n`);
    this.offset = v;
  }

  event(e: Record<string, any>): void {
    const v = typeof e.vertex === 'number' ? e.vertex + this.offset : 0;
    switch (e.type) {
      case 'step':
        this.starts.set(v, Date.now());
        this.out.write(`#${v} ${e.name}\n`);
        break;
      case 'log': {
        const t = secs(Date.now() - (this.starts.get(v) ?? Date.now()));
        const text = (this.partial.get(v) ?? '') + String(e.data);
        const lines = text.split('\n');
        this.partial.set(v, lines.pop()!);
        for (const l of lines) this.out.write(`#${v} ${t} ${l}\n`);
        break;
      }
      case 'done':
        this.flush(v);
        this.out.write(e.cached ? `#${v} CACHED\n\n` : `#${v} DONE ${secs(e.ms)}s\n\n`);
        break;
      case 'error':
        this.flush(v);
        this.out.write(`#${v} ERROR: ${e.message}\n\n`);
        break;
      case 'warning':
        this.out.write(`WARNING: ${e.message}\n`);
        break;
    }
    if (v >= this.next) this.next = v + 1;
  }

  private flush(v: number): void {
    const rest = this.partial.get(v);
    if (rest) this.out.write(`#${v} ${secs(Date.now() - (this.starts.get(v) ?? Date.now()))} ${rest}\n`);
    this.partial.delete(v);
  }

  /** The closing "exporting to image" step. */
  exported(id: string, tags: string[]): void {
    const v = this.next++;
    this.out.write(`#${v} exporting to image\n#${v} writing image ${id} done\n`);
    for (const t of tags) this.out.write(`#${v} naming to ${t} done\n`);
    this.out.write(`#${v} DONE 0.0s\n`);
  }
}

interface TtyVertex {
  name: string;
  start: number;
  end?: number;
  cached?: boolean;
  error?: string;
  logs: string[];
}

/**
 * BuildKit's live terminal view: `[+] Building 1.2s (5/7)` and one `=> ` line per step with
 * its time, the running steps' last output lines under them; redrawn in place.
 */
export class TtyBuildProgress {
  private vertices = new Map<number, TtyVertex>();
  private order: number[] = [];
  private offset = 0;
  private next = 1;
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  private readonly t0 = Date.now();
  private warnings: string[] = [];
  private finished = false;

  constructor(
    private readonly out: ProgressSink,
    private readonly width = 80,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref?.();
  }

  internal(name: string, _detail: string): void {
    const v = this.next++;
    this.vertices.set(v, { name, start: Date.now(), end: Date.now(), logs: [] });
    this.order.push(v);
    this.offset = v;
  }

  event(e: Record<string, any>): void {
    const v = typeof e.vertex === 'number' ? e.vertex + this.offset : 0;
    const x = this.vertices.get(v);
    switch (e.type) {
      case 'step':
        this.vertices.set(v, { name: String(e.name), start: Date.now(), logs: [] });
        this.order.push(v);
        break;
      case 'log':
        if (x) x.logs.push(...String(e.data).split('\n').filter((l) => l !== ''));
        break;
      case 'done':
        if (x) Object.assign(x, { end: x.start + Number(e.ms ?? 0), cached: !!e.cached });
        break;
      case 'error':
        if (x) Object.assign(x, { end: Date.now(), error: String(e.message) });
        break;
      case 'warning':
        this.warnings.push(String(e.message));
        break;
    }
    if (v >= this.next) this.next = v + 1;
  }

  exported(id: string, _tags: string[]): void {
    const v = this.next++;
    this.vertices.set(v, { name: 'exporting to image', start: Date.now(), end: Date.now(), logs: [`writing image ${id}`] });
    this.order.push(v);
  }

  /** Final frame; `ok` false marks the build as failed. */
  stop(ok: boolean): void {
    if (this.timer) clearInterval(this.timer);
    this.finished = ok;
    this.draw(true);
    for (const w of this.warnings) this.out.write(`WARNING: ${w}\n`);
  }

  render(now: number, final: boolean): string[] {
    const done = this.order.filter((v) => this.vertices.get(v)!.end !== undefined).length;
    const secs = ((now - this.t0) / 1000).toFixed(1);
    const lines = [`[+] Building ${secs}s (${done}/${this.order.length})${final ? (this.finished ? ' FINISHED' : '') : ''}`];
    for (const v of this.order) {
      const x = this.vertices.get(v)!;
      const t = `${(((x.end ?? now) - x.start) / 1000).toFixed(1)}s`;
      const label = `${x.error ? 'ERROR ' : x.cached ? 'CACHED ' : ''}${x.name}`;
      const room = Math.max(10, this.width - t.length - 5);
      const shown = label.length > room ? label.slice(0, room - 3) + '...' : label;
      lines.push(` => ${shown.padEnd(room)} ${t}`);
      if (x.end === undefined || x.error) for (const l of x.logs.slice(-6)) lines.push(` => => # ${l}`.slice(0, this.width));
    }
    return lines;
  }

  private draw(final = false): void {
    const lines = this.render(Date.now(), final);
    let s = this.drawn ? `\x1b[${this.drawn}A` : '';
    for (const l of lines) s += `\x1b[2K${l}\n`;
    this.drawn = lines.length;
    this.out.write(s);
  }
}
