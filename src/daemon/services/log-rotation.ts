import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Runtime } from '../system/runtime.js';
import { logSettings } from '../system/log-driver.js';
import { LogRotator } from '../system/log-rotator.js';
import type { ContainerService, LifecycleHooks } from './container-service.js';

/**
 * Keeps the log rotator in step with the lifecycle: a running container with
 * `max-size` and `max-file` > 1 is watched; with max-file 1 conmon truncates
 * by itself (--log-size-max), as docker's json-file does.
 */
export class LogRotation implements LifecycleHooks {
  private rotator: LogRotator;

  constructor(
    private containers: ContainerService,
    private runtime: Runtime,
    private bundlesDir: string,
    log: (level: string, msg: string) => void,
  ) {
    this.rotator = new LogRotator((id, e) => log('warn', `log rotation of ${id}: ${errorMessage(e)}`));
  }

  started(id: string): void {
    const rec = this.containers.get(id).rec;
    const s = logSettings(rec.hostConfig.LogConfig ?? {});
    if (s.driver === 'none' || s.maxSize === 0 || s.maxFiles < 2) return;
    const bundle = path.join(this.bundlesDir, id);
    this.rotator.track(id, { file: rec.logPath, maxSize: s.maxSize, maxFiles: s.maxFiles, reopen: () => this.runtime.reopenLog(bundle) });
  }

  restored(id: string): void {
    this.started(id);
  }

  stopped(id: string): void {
    this.rotator.untrack(id);
  }

  paused(): void {}
  unpaused(): void {}
}
