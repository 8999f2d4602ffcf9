// Which compose files a project is made of, and the project's name.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ComposeError } from '../types.js';

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const OVERRIDE_FILES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

export interface Found {
  files: string[];
  warnings: string[];
}

/** the default files in `dir` or the nearest parent that has one, with its override file */
export function findDefaultFiles(dir: string): Found {
  let d = resolve(dir);
  for (;;) {
    const found = DEFAULT_FILES.filter((f) => existsSync(join(d, f)));
    if (found.length > 0) {
      const warnings = found.length > 1
        ? [`Found multiple config files with supported names: ${found.map((f) => join(d, f)).join(', ')}\nUsing ${join(d, found[0])}`]
        : [];
      const files = [join(d, found[0])];
      const over = OVERRIDE_FILES.find((f) => existsSync(join(d, f)));
      if (over) files.push(join(d, over));
      return { files, warnings };
    }
    const up = dirname(d);
    if (up === d) throw new ComposeError('no configuration file provided: not found');
    d = up;
  }
}

const VALID_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export function checkProjectName(name: string): string {
  if (!VALID_NAME.test(name)) {
    throw new ComposeError(`invalid project name ${JSON.stringify(name)}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
  }
  return name;
}

/** what compose makes of a directory name: lowercase, only [a-z0-9_-], starting alphanumeric */
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
}

export function nameFromDir(dir: string): string {
  const n = normalizeProjectName(basename(resolve(dir)));
  if (!n) throw new ComposeError(`project name must not be empty`);
  return n;
}
