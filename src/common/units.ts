// docker/go-units and Go time semantics that docker's CLI output and flags
// depend on: sizes, human durations, Go durations, --since/--until values.

import { formatFloatG } from './gotemplate/gofmt.js';

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]!];
}

/** units.HumanSizeWithPrecision: "%.*g%s" over decimal units. */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  const [s, u] = sizeAndUnit(bytes, 1000, DECIMAL);
  return formatFloatG(s, precision) + u;
}

/** units.HumanSize: 4 significant digits, decimal units ("1.234MB"). */
export function humanSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 4);
}

/** units.BytesSize: 4 significant digits, binary units ("1.5MiB"). */
export function bytesSize(bytes: number): string {
  const [s, u] = sizeAndUnit(bytes, 1024, BINARY);
  return formatFloatG(s, 4) + u;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** units.HumanDuration of a duration in milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  // Go's Duration.Round rounds halves away from zero.
  const hours = Math.round(ms / HOUR);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / HOUR) / 24 / 365)} years`;
}

const DEC_MAP: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const BIN_MAP: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

function parseSize(sizeStr: string, map: Record<string, number>): number {
  let sep = -1;
  for (let i = sizeStr.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(sizeStr[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${sizeStr}'`);
  const num = sizeStr[sep] !== ' ' ? sizeStr.slice(0, sep + 1) : sizeStr.slice(0, sep);
  let sfx = sizeStr.slice(sep + 1);
  const size = parseGoFloat(num);
  if (size < 0) throw new Error(`invalid size: '${sizeStr}'`);
  if (sfx.length === 0) return Math.trunc(size);
  const bad = (): never => {
    throw new Error(`invalid suffix: '${sfx}'`);
  };
  if (sfx.length > 3) bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) bad();
    return Math.trunc(size);
  }
  const mul = map[sfx[0]!];
  if (mul === undefined) bad();
  if (sfx.length === 2 && sfx[1] !== 'b') bad();
  if (sfx.length === 3 && sfx.slice(1) !== 'ib') bad();
  return Math.trunc(size * mul!);
}

function parseGoFloat(s: string): number {
  const t = s.replace(/_/g, '');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) && !/^[+-]?(inf|infinity|nan)$/i.test(t)) {
    throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
  }
  return Number(/nan/i.test(t) ? NaN : /inf/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : t);
}

/** units.RAMInBytes: binary multipliers ("512m", "1g", "1.5GiB"). */
export function ramInBytes(s: string): number {
  return parseSize(s, BIN_MAP);
}

/** units.FromHumanSize: decimal multipliers ("1kB" = 1000). */
export function fromHumanSize(s: string): number {
  return parseSize(s, DEC_MAP);
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: SECOND, m: MINUTE, h: HOUR,
};

/** time.ParseDuration, in milliseconds (fractions carry sub-ms precision). */
export function parseGoDuration(s: string): number {
  const orig = s;
  const invalid = (): never => {
    throw new Error(`time: invalid duration ${goQuote(orig)}`);
  };
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') invalid();
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(\.(\d*))?/.exec(s)!;
    if ((m[1] === '' && (m[3] ?? '') === '') || m[0] === '.') invalid();
    s = s.slice(m[0].length);
    const u = /^[^0-9.]+/.exec(s);
    if (!u) throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    const unit = DURATION_UNITS[u[0]];
    if (unit === undefined) throw new Error(`time: unknown unit ${goQuote(u[0])} in duration ${goQuote(orig)}`);
    s = s.slice(u[0].length);
    total += Number(`${m[1] || '0'}.${m[3] ?? ''}0`) * unit;
  }
  if (total * 1e6 > 9223372036854775807) invalid();
  return neg ? -total : total;
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** time.Duration.String for a duration in milliseconds ("1h2m3s", "1.5s", "500ms"). */
export function formatGoDuration(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  const neg = ns < 0n;
  if (neg) ns = -ns;
  let out: string;
  const frac = (v: bigint, digits: number): string => {
    const d = 10n ** BigInt(digits);
    const f = (v % d).toString().padStart(digits, '0').replace(/0+$/, '');
    return (v / d).toString() + (f ? '.' + f : '');
  };
  if (ns === 0n) return '0s';
  if (ns < 1000000000n) {
    if (ns < 1000n) out = `${ns}ns`;
    else if (ns < 1000000n) out = `${frac(ns, 3)}µs`;
    else out = `${frac(ns, 6)}ms`;
  } else {
    const h = ns / 3600000000000n;
    const rem = ns % 3600000000000n;
    const m = rem / 60000000000n;
    const sec = rem % 60000000000n;
    out = `${frac(sec, 9)}s`;
    if (h > 0n || m > 0n) out = `${m}m` + out;
    if (h > 0n) out = `${h}h` + out;
  }
  return (neg ? '-' : '') + out;
}

/**
 * docker-cli's timetypes.GetTimestamp: the value sent to the API for
 * --since/--until ("<seconds>.<nanos>", or the input when it is already a
 * unix timestamp).
 */
export function getTimestamp(value: string, now: Date): string {
  if (value !== '0') {
    try {
      const d = parseGoDuration(value);
      return String(Math.floor((now.getTime() - d) / 1000));
    } catch {
      // not a duration
    }
  }
  const parseInLocation = !(/[zZ+]/.test(value) || (value.match(/-/g)?.length ?? 0) === 3);
  const t = parseTimeValue(value, parseInLocation, now);
  if (t === null) {
    if (value.includes('-')) throw new Error(`parsing time ${goQuote(value)}: cannot parse ${goQuote(value)} as RFC3339 timestamp`);
    if (!/^\d+(\.\d{1,9})?$/.test(value) && !/^\d+\.?$/.test(value)) {
      throw new Error(`failed to parse value as time or duration: ${goQuote(value)}`);
    }
    return value;
  }
  const secs = Math.floor(t.ms / 1000);
  const nanos = (t.ms - secs * 1000) * 1e6 + t.subMsNanos;
  return `${secs}.${String(Math.round(nanos)).padStart(9, '0')}`;
}

/** GetTimestamp as a number of seconds since the epoch. */
export function parseTimestamp(value: string, now: Date): number {
  return Number(getTimestamp(value, now));
}

function parseTimeValue(value: string, inLocation: boolean, now: Date): { ms: number; subMsNanos: number } | null {
  // Date, optional THH[:MM[:SS[.frac]]], optional zone (Z or ±hh:mm) when not local.
  const re = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/;
  const m = re.exec(value);
  if (!m) return null;
  const [, y, mo, d, hh, mi, ss, frac, zone] = m;
  if (inLocation === (zone !== undefined)) return null;
  if (hh !== undefined && mi !== undefined && ss === undefined && value.includes('.')) return null;
  const fracNs = frac ? Number(frac.padEnd(9, '0')) : 0;
  let ms = Date.UTC(+y!, +mo! - 1, +d!, +(hh ?? 0), +(mi ?? 0), +(ss ?? 0)) + Math.floor(fracNs / 1e6);
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * MINUTE;
  } else if (!zone) {
    // Local wall time in the reference's zone.
    ms += now.getTimezoneOffset() * MINUTE;
  }
  return { ms, subMsNanos: fracNs % 1e6 };
}
