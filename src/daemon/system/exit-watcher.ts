import fs from 'node:fs';
import path from 'node:path';

/**
 * Watches conmon's exit directory: conmon writes `<dir>/<id>` (the exit code)
 * when a container ends. inotify wakes us immediately; a slow poll covers
 * events lost while the watch was being set up.
 */
export class ExitWatcher {
  private watcher?: fs.FSWatcher;
  private poll?: NodeJS.Timeout;
  private handlers = new Map<string, (code: number) => void>();

  constructor(private dir: string) {}

  start(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    this.watcher = fs.watch(this.dir, (_ev, file) => {
      if (file) this.check(file.toString());
    });
    this.watcher.on('error', () => undefined);
    this.poll = setInterval(() => {
      for (const id of this.handlers.keys()) this.check(id);
    }, 2000);
    this.poll.unref();
  }

  stop(): void {
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
  }

  /** Calls `fn` once with the exit code when `id` exits (at once if it already has). */
  watch(id: string, fn: (code: number) => void): void {
    this.handlers.set(id, fn);
    this.check(id);
  }

  unwatch(id: string): void {
    this.handlers.delete(id);
  }

  /** The exit code conmon recorded, if the container has exited. */
  read(id: string): number | undefined {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir, id), 'utf8');
    } catch {
      return undefined;
    }
    const n = parseInt(text.trim(), 10);
    return Number.isNaN(n) ? undefined : n;
  }

  clear(id: string): void {
    fs.rmSync(path.join(this.dir, id), { force: true });
  }

  private check(id: string): void {
    const fn = this.handlers.get(id);
    if (!fn) return;
    const code = this.read(id);
    if (code === undefined) return;
    this.handlers.delete(id);
    fn(code);
  }
}
