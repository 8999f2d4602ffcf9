// Go's time.ParseDuration, because HEALTHCHECK flags take Go durations ("1m30s", "1.5h", "300ms").
import { goQuote } from './go-text.js';

const units: Record<string, number> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/** Duration in nanoseconds; throws with Go's message on bad input. */
export function parseGoDuration(s: string): number {
  const bad = () => new Error(`time: invalid duration ${goQuote(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (m[0] === '' || m[0] === '.' || (m[1] === '' && (m[2] ?? '') === '')) throw bad();
    rest = rest.slice(m[0].length);
    const u = /^[^\d.]+/.exec(rest);
    if (!u) throw new Error(`time: missing unit in duration ${goQuote(s)}`);
    const scale = units[u[0]];
    if (scale === undefined) throw new Error(`time: unknown unit ${goQuote(u[0])} in duration ${goQuote(s)}`);
    rest = rest.slice(u[0].length);
    total += Number(`${m[1] || '0'}.${m[2] ?? ''}0`) * scale;
  }
  return sign * Math.round(total);
}
