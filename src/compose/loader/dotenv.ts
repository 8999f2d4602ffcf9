// `.env` and `env_file` parsing with compose-go's rules (not npm dotenv's): `export ` prefix,
// single quotes literal, double quotes with escapes and multi-line values, inline ` #`
// comments on unquoted values, `${VAR}` expansion in unquoted and double-quoted values.
import { ComposeError } from '../types.js';
import { substitute, type Lookup } from './template.js';

const DQ_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"', $: '$', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };

/**
 * Parses dotenv text. `lookup` answers expansions and bare `NAME` lines; variables set
 * earlier in the same file are consulted after it.
 */
export function parseDotEnv(text: string, lookup: Lookup = () => undefined, file = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const expand = (v: string): string => substitute(v, (k) => lookup(k) ?? out[k]);
  let i = 0;
  let line = 1;
  while (i < src.length) {
    // skip blank lines and comments
    const rest = src.slice(i);
    const blank = /^[ \t]*(#[^\n]*)?(\n|$)/.exec(rest);
    if (blank && blank[0].length > 0) {
      i += blank[0].length;
      if (blank[2] === '\n') line++;
      continue;
    }
    const m = /^[ \t]*(?:export[ \t]+)?([^=:\s#]+)[ \t]*([=:]?)[ \t]*/.exec(rest);
    if (!m) {
      const bad = rest.split('\n')[0];
      throw new ComposeError(`failed to read ${file}: line ${line}: unexpected character ${JSON.stringify(bad.trim()[0] ?? '')} in variable name ${JSON.stringify(bad.trim())}`);
    }
    const key = m[1];
    i += m[0].length;
    if (m[2] === '') {
      // `NAME` alone takes its value from the environment, if there is one
      const eol = src.indexOf('\n', i);
      const trailing = src.slice(i, eol < 0 ? src.length : eol).trim();
      if (trailing && !trailing.startsWith('#')) {
        throw new ComposeError(`failed to read ${file}: line ${line}: unexpected character ${JSON.stringify(trailing[0])} in variable name ${JSON.stringify(key + ' ' + trailing)}`);
      }
      const v = lookup(key);
      if (v !== undefined) out[key] = v;
      i = eol < 0 ? src.length : eol;
      continue;
    }
    const q = src[i];
    let value: string;
    if (q === '"' || q === "'") {
      let j = i + 1;
      let raw = '';
      while (j < src.length && src[j] !== q) {
        if (q === '"' && src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1];
          raw += e in DQ_ESCAPES ? (e === '$' ? '$$' : DQ_ESCAPES[e]) : '\\' + e;
          j += 2;
          continue;
        }
        if (src[j] === '\n') line++;
        raw += src[j];
        j++;
      }
      if (j >= src.length) throw new ComposeError(`failed to read ${file}: line ${line}: unterminated quoted value`);
      value = q === '"' ? expand(raw) : raw;
      i = j + 1;
      const eol = src.indexOf('\n', i);
      i = eol < 0 ? src.length : eol;
    } else {
      const eol = src.indexOf('\n', i);
      let raw = src.slice(i, eol < 0 ? src.length : eol);
      const c = /[ \t]#/.exec(raw);
      if (c) raw = raw.slice(0, c.index);
      value = expand(raw.trim());
      i = eol < 0 ? src.length : eol;
    }
    out[key] = value;
  }
  return out;
}
