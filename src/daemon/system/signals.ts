import os from 'node:os';

/**
 * Signal names as docker accepts them: "SIGTERM", "TERM", "term", "15",
 * and the real-time forms "SIGRTMIN+3".
 */
export function signalNumber(s: string | number): number {
  if (typeof s === 'number') return s;
  const v = s.trim();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 64) throw new Error(`Invalid signal: ${s}`);
    return n;
  }
  const name = v.toUpperCase().replace(/^SIG/, '');
  const rt = /^RTMIN(\+(\d+))?$/.exec(name) ?? /^RTMAX(-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[2] ?? 0);
    return name.startsWith('RTMIN') ? 34 + off : 64 - off;
  }
  const n = (os.constants.signals as Record<string, number>)['SIG' + name];
  if (n === undefined) throw new Error(`Invalid signal: ${s}`);
  return n;
}
