// docker's --env-file / --label-file format (opts/envfile.go): no quoting, no trimming of values,
// bare names take the value from the caller's environment or are dropped.
import { readFileSync } from 'node:fs';

const WHITESPACE = ' \t';

export function parseKeyValueText(
  text: string,
  filename: string,
  lookup: (name: string) => string | undefined,
): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, idx) => {
    let l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (idx === 0 && l.startsWith('\uFEFF')) l = l.slice(1);
    if (l.includes('\uFFFD')) {
      throw new Error(`env file ${filename} contains invalid utf8 bytes at line ${idx + 1}`);
    }
    const line = l.replace(/^\s+/u, '');
    if (line.length === 0 || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    let variable = eq >= 0 ? line.slice(0, eq) : line;
    variable = variable.replace(/^[ \t]+/, '');
    if ([...WHITESPACE].some((c) => variable.includes(c))) {
      throw new Error(`poorly formatted environment: variable '${variable}' contains whitespaces`);
    }
    if (variable.length === 0) {
      throw new Error(`poorly formatted environment: no variable name on line '${line}'`);
    }
    if (eq >= 0) {
      out.push(`${variable}=${line.slice(eq + 1)}`);
    } else {
      const v = lookup(line);
      if (v !== undefined) out.push(`${variable.trim()}=${v}`);
    }
  });
  return out;
}

function readText(filename: string): string {
  try {
    return readFileSync(filename, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`open ${filename}: no such file or directory`);
    if (code === 'EACCES') throw new Error(`open ${filename}: permission denied`);
    if (code === 'EISDIR') throw new Error(`read ${filename}: is a directory`);
    throw e;
  }
}

export function parseEnvFile(filename: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return parseKeyValueText(readText(filename), filename, (k) => env[k]);
}

export function parseKeyValueFile(filename: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return parseEnvFile(filename, env);
}

/** `-e NAME` takes NAME's value from the environment, or is sent bare (opts.ValidateEnv). */
export function validateEnv(val: string, env: NodeJS.ProcessEnv = process.env): string {
  const eq = val.indexOf('=');
  const k = eq >= 0 ? val.slice(0, eq) : val;
  if (k === '') throw new Error(`invalid environment variable: ${val}`);
  if (eq >= 0) return val;
  const v = env[k];
  return v !== undefined ? `${k}=${v}` : val;
}
