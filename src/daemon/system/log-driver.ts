import fs from 'node:fs';
import path from 'node:path';
import type { LogConfig } from './container-config.js';

/**
 * Logging drivers as dockerd exposes them: `json-file` (the default), `local`
 * and `none`. conmon writes every log (so nothing is lost while berthd is down),
 * always in its k8s-file line format; berthd rotates the files (rename, then ask
 * conmon to reopen) and `logs` reads them as docker shows them.
 */
export type LogDriver = 'json-file' | 'local' | 'none';

export interface LogSettings {
  driver: LogDriver;
  /** Bytes a file may reach before it is rotated; 0 = unlimited. */
  maxSize: number;
  /** Files kept, the live one included (docker's max-file). */
  maxFiles: number;
}

const SUPPORTED = new Set(['json-file', 'local', 'none']);
// Options dockerd accepts for every driver.
const BUILTIN_OPTS = new Set(['mode', 'max-buffer-size']);
const JSON_FILE_OPTS = new Set(['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);
const LOCAL_OPTS = new Set(['max-file', 'max-size', 'compress']);
const LOCAL_DEFAULTS = { maxSize: 20 * 1024 * 1024, maxFiles: 5 };

/** docker/go-units FromHumanSize: decimal units (k = 1000), as the json-file driver parses max-size. */
export function parseLogSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtTpP]?)[iI]?[bB]?\s*$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  const mult: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
  return Math.round(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}

/**
 * dockerd's mergeAndVerifyLogConfig: an empty type is the daemon's default,
 * the daemon's options fill in for its own driver, then the driver checks its
 * options. Throws dockerd's texts.
 */
export function resolveLogConfig(lc: LogConfig | null | undefined, daemonDefault: { type: string; opts: Record<string, string> }): Required<LogConfig> & { Config: Record<string, string> } {
  const type = lc?.Type || daemonDefault.type;
  const config: Record<string, string> = { ...(lc?.Config ?? {}) };
  if (type === daemonDefault.type) for (const [k, v] of Object.entries(daemonDefault.opts)) if (!(k in config)) config[k] = v;
  validateLogOpts(type, config);
  return { Type: type, Config: config };
}

export function validateLogOpts(type: string, cfg: Record<string, string>): void {
  if (type === 'none') return;
  const mode = cfg.mode ?? '';
  if (!['', 'blocking', 'non-blocking'].includes(mode)) throw new Error(`logger: logging mode not supported: ${mode}`);
  if (!SUPPORTED.has(type)) throw new Error(`logger: no log driver named '${type}' is registered`);
  const allowed = type === 'local' ? LOCAL_OPTS : JSON_FILE_OPTS;
  for (const k of Object.keys(cfg)) {
    if (BUILTIN_OPTS.has(k) || allowed.has(k)) continue;
    throw new Error(type === 'local' ? `unknown log opt '${k}' for log driver local` : `unknown log opt '${k}' for json-file log driver`);
  }
  logSettings({ Type: type, Config: cfg });
}

/** The rotation limits a (validated) log config means; throws dockerd's texts for bad values. */
export function logSettings(lc: LogConfig): LogSettings {
  const driver = (lc.Type || 'json-file') as LogDriver;
  const cfg = lc.Config ?? {};
  if (driver === 'none') return { driver, maxSize: 0, maxFiles: 1 };
  let maxSize = driver === 'local' ? LOCAL_DEFAULTS.maxSize : 0;
  let maxFiles = driver === 'local' ? LOCAL_DEFAULTS.maxFiles : 1;
  if (cfg['max-size'] !== undefined) {
    maxSize = parseLogSize(cfg['max-size']);
    if (maxSize <= 0) throw new Error('max-size must be a positive number');
  }
  if (cfg['max-file'] !== undefined) {
    const v = cfg['max-file'];
    if (!/^[+-]?\d+$/.test(v)) throw new Error(`strconv.Atoi: parsing "${v}": invalid syntax`);
    maxFiles = Number(v);
    if (maxFiles < 1) throw new Error('max-file cannot be less than 1');
  }
  // As the json-file driver: without a size limit there is nothing to rotate.
  if (maxSize === 0) maxFiles = 1;
  return { driver, maxSize, maxFiles };
}

/** Where a driver keeps the live file (docker's names). */
export function logFilePath(containerDir: string, id: string, driver: string): string {
  return driver === 'local' ? path.join(containerDir, 'local-logs', 'container.log') : path.join(containerDir, `${id}-json.log`);
}

/** The files of a log, oldest first: `<file>.<n>` … `<file>.1`, `<file>`. */
export function logFiles(file: string): string[] {
  const rotated: string[] = [];
  for (let i = 1; fs.existsSync(`${file}.${i}`); i++) rotated.push(`${file}.${i}`);
  return [...rotated.reverse(), file];
}

/**
 * Shifts `<file>` to `<file>.1` (and `.1` to `.2`, …, dropping what falls
 * past max-file). The writer keeps appending to the renamed file until it
 * reopens `<file>`, so nothing is lost between the rename and the reopen.
 */
export async function shiftLogFiles(file: string, maxFiles: number): Promise<void> {
  await fs.promises.rm(`${file}.${maxFiles - 1}`, { force: true });
  for (let i = maxFiles - 2; i >= 1; i--) {
    await fs.promises.rename(`${file}.${i}`, `${file}.${i + 1}`).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  await fs.promises.rename(file, `${file}.1`);
}
