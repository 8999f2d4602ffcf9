import fs from 'node:fs';
import { shiftLogFiles } from './log-driver.js';

export interface RotatedLog {
  file: string;
  maxSize: number;
  maxFiles: number;
  /** Makes the writer start a new `file` (conmon's reopen). */
  reopen: () => Promise<void>;
}

/**
 * Rotates the logs of running containers: every `intervalMs` it looks at each
 * live file's size and, past max-size, shifts the files and has the writer
 * reopen. A file can overshoot max-size by what is written within one
 * interval (docker checks on every write; conmon writes without us).
 */
export class LogRotator {
  private logs = new Map<string, RotatedLog & { busy: boolean }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private onError: (id: string, err: unknown) => void,
    private intervalMs = 250,
  ) {}

  track(id: string, l: RotatedLog): void {
    this.logs.set(id, { ...l, busy: false });
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      this.timer.unref();
    }
    // Written past the limit while nobody rotated (berthd was down): rotate now.
    void this.check(id);
  }

  untrack(id: string): void {
    this.logs.delete(id);
    if (this.logs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  stop(): void {
    for (const id of [...this.logs.keys()]) this.untrack(id);
  }

  private async tick(): Promise<void> {
    await Promise.all([...this.logs.keys()].map((id) => this.check(id)));
  }

  private async check(id: string): Promise<void> {
    const l = this.logs.get(id);
    if (!l || l.busy) return;
    l.busy = true;
    try {
      const st = await fs.promises.stat(l.file).catch(() => undefined);
      if (!st || st.size < l.maxSize) return;
      await shiftLogFiles(l.file, l.maxFiles);
      await l.reopen();
    } catch (e) {
      this.onError(id, e);
    } finally {
      l.busy = false;
    }
  }
}
