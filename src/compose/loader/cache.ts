// berth's compose cache directory: derived data that is slow to compute and safe to recompute
// (the compiled schema validator, parsed YAML), keyed by the digest of what it came from.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_CACHE_HOME/berth` or `~/.cache/berth`; undefined when there is no home */
export function cacheDir(): string | undefined {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : '');
  return base ? join(base, 'berth') : undefined;
}

export function readCache(file: string | undefined): string | undefined {
  if (!file || !existsSync(file)) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** writes atomically; an unwritable cache only costs the computation next time */
export function writeCache(file: string | undefined, text: string, keep = 0): void {
  if (!file) return;
  try {
    const dir = join(file, '..');
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
    if (keep > 0) prune(dir, keep);
  } catch {
    // see above
  }
}

/** keeps the `keep` most recently written entries of a cache directory */
function prune(dir: string, keep: number): void {
  const names = readdirSync(dir);
  if (names.length <= keep) return;
  const aged = names.map((n) => ({ n, t: statSync(join(dir, n)).mtimeMs })).sort((a, b) => b.t - a.t);
  for (const { n } of aged.slice(keep)) unlinkSync(join(dir, n));
}
