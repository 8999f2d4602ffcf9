// The `created_by` texts dockerd's classic builder writes into image history, formatted the
// way its Go code prints them (`%q` of string lists and of the health check struct).
import { goQuote, goQuoteList } from '../../../builder/dockerfile/go-text.js';

/** `/bin/sh -c #(nop)  CMD ["sh"]`: a config-only step (two spaces: "#(nop) " is its own word). */
export function nopCreatedBy(shell: string[], comment: string): string {
  return [...shell, '#(nop) ', comment].join(' ');
}

/** `/bin/sh -c #(nop) COPY file:… in /app `: COPY, ADD and WORKDIR use one word. */
export function nopCreatedByString(shell: string[], comment: string): string {
  return [...shell, '#(nop) ' + comment].join(' ');
}

export const quoteList = goQuoteList;

/** `%v` of a []string: `[/data /logs]`. */
export function plainList(list: readonly string[]): string {
  return '[' + list.join(' ') + ']';
}

/** Go's time.Duration String() for nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e3) out = `${u}ns`;
  else if (u < 1e6) out = `${trimFrac(u / 1e3)}µs`;
  else if (u < 1e9) out = `${trimFrac(u / 1e6)}ms`;
  else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    const s = trimFrac(u / 1e9) + 's';
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return (neg ? '-' : '') + out;
}

function trimFrac(v: number): string {
  return String(Number(v.toFixed(9)));
}

/** strconv.QuoteRune, which `%q` gives for an int. */
function quoteRune(n: number): string {
  const esc: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };
  if (esc[n]) return `'${esc[n]}'`;
  if (n < 0x20 || n === 0x7f) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCodePoint(n)}'`;
}

/** `HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" "0s" '\x00'}`. */
export function healthcheckText(h: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number }): string {
  const d = (v?: number) => goQuote(goDuration(v ?? 0));
  return `HEALTHCHECK &{${goQuoteList(h.Test ?? [])} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${d(h.StartInterval)} ${quoteRune(h.Retries ?? 0)}}`;
}
