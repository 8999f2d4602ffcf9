// The CLI's own version, read from package.json so releases need one edit.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

function findVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.name === 'berth' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // keep walking up
    }
    dir = dirname(dir);
  }
  return 'dev';
}

export const BERTH_VERSION = findVersion();
