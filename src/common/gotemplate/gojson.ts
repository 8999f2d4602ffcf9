// encoding/json output for JS values: Go's string escaping (optionally
// HTML-safe, as dockerd's API encoder is), MarshalIndent layout, and
// toJSON() hooks standing in for Go's json.Marshaler.

import { formatInt } from './gofmt.js';
import { kindOf } from './values.js';

export interface GoJSONOptions {
  escapeHTML?: boolean;
  indent?: string;
  prefix?: string;
}

export function goJSONString(s: string, escapeHTML: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) {
      if (c === 0x0a) out += '\\n';
      else if (c === 0x0d) out += '\\r';
      else if (c === 0x09) out += '\\t';
      else out += '\\u00' + c.toString(16).padStart(2, '0');
    } else if (escapeHTML && (c === 0x3c || c === 0x3e || c === 0x26)) {
      out += '\\u00' + c.toString(16);
    } else if (c === 0x2028 || c === 0x2029) {
      out += '\\u' + c.toString(16);
    } else if (c >= 0xd800 && c < 0xdc00) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\\ufffd';
    } else if (c >= 0xdc00 && c < 0xe000) out += '\\ufffd';
    else out += s[i];
  }
  return out + '"';
}

function goJSONNumber(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf'}`);
  if (Number.isInteger(n)) return formatInt(n);
  // JS picks exponent form at the same thresholds as Go (1e-6, 1e21) and
  // writes the exponent without padding, as Go does after its cleanup.
  return String(n);
}

/** json.Marshal / json.MarshalIndent of a JS value. */
export function goJSON(v: unknown, opts: GoJSONOptions = {}): string {
  const escapeHTML = opts.escapeHTML ?? true;
  const indent = opts.indent;
  const prefix = opts.prefix ?? '';
  const enc = (x: unknown, depth: number): string => {
    if (x !== null && typeof x === 'object' && typeof (x as { toJSON?: unknown }).toJSON === 'function') {
      x = (x as { toJSON: () => unknown }).toJSON();
    }
    const nl = (d: number): string => (indent === undefined ? '' : '\n' + prefix + indent.repeat(d));
    const colon = indent === undefined ? ':' : ': ';
    switch (kindOf(x)) {
      case 'invalid':
      case 'nil':
      case 'func': return 'null';
      case 'string': return goJSONString(x as string, escapeHTML);
      case 'int':
      case 'float': return goJSONNumber(x as number);
      case 'bool': return String(x);
      case 'slice': {
        const a = x as unknown[];
        if (a.length === 0) return '[]';
        return '[' + a.map((e) => nl(depth + 1) + enc(e, depth + 1)).join(',') + nl(depth) + ']';
      }
      default: {
        const o = x as Record<string, unknown>;
        const keys = Object.keys(o).filter((k) => o[k] !== undefined && typeof o[k] !== 'function');
        if (keys.length === 0) return '{}';
        return '{' + keys.map((k) => nl(depth + 1) + goJSONString(k, escapeHTML) + colon + enc(o[k], depth + 1)).join(',') + nl(depth) + '}';
      }
    }
  };
  return enc(v, 0);
}
