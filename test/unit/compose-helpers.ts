// Temporary project directories for the compose loader tests.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** writes `files` (path → text) under a fresh directory named `name`, returns its path */
export function project(files: Record<string, string>, name = 'proj'): string {
  const root = join(mkdtempSync(join(tmpdir(), 'berth-compose-')), name);
  mkdirSync(root, { recursive: true });
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}
