// Splits a command string into words like go-shellwords (which compose-go uses for
// `command: string`): blanks separate, quotes group, backslash escapes, no expansion.
import { ComposeError } from '../types.js';

export function splitShellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '' | '"' | "'" = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q === "'") {
      if (c === "'") q = ''; else cur += c;
      continue;
    }
    if (c === '\\' && i + 1 < s.length && (q === '' || ['"', '\\', '$', '`'].includes(s[i + 1]))) {
      cur += s[++i];
      has = true;
      continue;
    }
    if (q === '"') {
      if (c === '"') q = ''; else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      q = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (q) throw new ComposeError(`invalid command line string`);
  if (has) out.push(cur);
  return out;
}
