// text/template's predefined functions plus the ones docker/cli adds
// (templates.basicFunctions), with Go's argument typing and error texts.

import { formatV, sprint, sprintf, sprintln } from './gofmt.js';
import { goJSON } from './gojson.js';
import { goTypeName, isStringMap, isTrue, kindOf } from './values.js';

export type ParamType = 'any' | 'string' | 'int' | '[]string';

export interface FuncDef {
  params: ParamType[];
  /** Type of the trailing variadic parameter, if any. */
  variadic?: ParamType;
  fn: (...args: unknown[]) => unknown;
  /** and/or evaluate their arguments lazily. */
  lazy?: 'and' | 'or';
}

const BAD_CMP = 'incompatible types for comparison';
const BAD_CMP_TYPE = 'invalid type for comparison';

type Basic = 'bool' | 'number' | 'string' | 'invalid';
function basicKind(v: unknown): Basic {
  const k = kindOf(v);
  if (k === 'bool' || k === 'string') return k;
  if (k === 'int' || k === 'float') return 'number';
  return 'invalid';
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of rest) {
    const k2 = basicKind(b);
    let truth: boolean;
    if (k1 !== k2) {
      if (a !== undefined && b !== undefined && !(a === null || b === null)) throw new Error(BAD_CMP);
      truth = false;
      if ((a === null || a === undefined) && (b === null || b === undefined)) truth = true;
    } else if (k1 === 'invalid') {
      const nilA = a === null || a === undefined;
      const nilB = b === null || b === undefined;
      if (nilA || nilB) truth = nilA === nilB;
      else if (kindOf(b) === 'slice' || kindOf(b) === 'map' || kindOf(b) === 'func') {
        throw new Error(`non-comparable type ${formatV(b, false, false)}: ${goTypeName(b)}`);
      } else truth = a === b;
    } else {
      truth = a === b;
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  if (k1 === 'invalid') throw new Error(BAD_CMP_TYPE);
  const k2 = basicKind(b);
  if (k2 === 'invalid') throw new Error(BAD_CMP_TYPE);
  if (k1 !== k2) throw new Error(BAD_CMP);
  if (k1 === 'bool') throw new Error(BAD_CMP_TYPE);
  return (a as number | string) < (b as number | string);
}

function goLen(v: unknown): number {
  switch (kindOf(v)) {
    case 'string': return Buffer.byteLength(v as string, 'utf8');
    case 'slice': return (v as unknown[]).length;
    case 'map': return Object.keys(v as object).length;
    case 'nil': return 0;
    case 'invalid': throw new Error('len of nil pointer');
    default: throw new Error(`len of type ${goTypeName(v)}`);
  }
}

function indexArg(i: unknown, cap: number): number {
  if (kindOf(i) !== 'int') throw new Error(`cannot index slice/array with type ${goTypeName(i)}`);
  const x = Number(i);
  if (x < 0 || x >= cap) throw new Error(`index out of range: ${x}`);
  return x;
}

function goIndex(item: unknown, ...idx: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('index of untyped nil');
  for (const i of idx) {
    if (item === null) throw new Error('index of nil pointer');
    switch (kindOf(item)) {
      case 'slice': {
        const a = item as unknown[];
        item = a[indexArg(i, a.length)];
        break;
      }
      case 'string': {
        const b = Buffer.from(item as string, 'utf8');
        item = b[indexArg(i, b.length)];
        break;
      }
      case 'map': {
        if (typeof i !== 'string') throw new Error(`value has type ${goTypeName(i)}; should be string`);
        const m = item as Record<string, unknown>;
        if (Object.prototype.hasOwnProperty.call(m, i)) item = m[i];
        else item = isStringMap(m) || Object.keys(m).length === 0 ? '' : undefined;
        break;
      }
      default:
        throw new Error(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

function goSlice(item: unknown, ...idx: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('slice of untyped nil');
  if (idx.length > 3) throw new Error(`too many slice indexes: ${idx.length}`);
  const k = kindOf(item);
  if (k !== 'string' && k !== 'slice') throw new Error(`can't slice item of type ${goTypeName(item)}`);
  if (k === 'string' && idx.length === 3) throw new Error('cannot 3-index slice a string');
  const buf = k === 'string' ? Buffer.from(item as string, 'utf8') : null;
  const len = buf ? buf.length : (item as unknown[]).length;
  const ix = [0, len];
  idx.forEach((v, n) => {
    ix[n] = indexArg(v, len + 1);
  });
  if (ix[0]! > ix[1]!) throw new Error(`invalid slice index: ${ix[0]} > ${ix[1]}`);
  if (buf) return buf.subarray(ix[0], ix[1]).toString('utf8');
  return (item as unknown[]).slice(ix[0], ix[1]);
}

/** Stringify html/js/urlquery arguments as text/template's evalArgs does. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === undefined ? '<no value>' : a)));
}

export function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) =>
    ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!,
  );
}

export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '\\': out += '\\\\'; continue;
      case "'": out += "\\'"; continue;
      case '"': out += '\\"'; continue;
      case '<': out += '\\u003C'; continue;
      case '>': out += '\\u003E'; continue;
      case '&': out += '\\u0026'; continue;
      case '=': out += '\\u003D'; continue;
    }
    if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
    else if (cp >= 0x80 && !/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch)) out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out;
}

export function urlQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** strings.Split, including its rules for empty separators and inputs. */
export function goSplit(s: string, sep: string): string[] {
  if (sep === '') return [...s];
  return s.split(sep);
}

/** strings.Title: upper-case letters that begin words. */
export function goTitle(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(r: string): boolean {
  const cp = r.codePointAt(0)!;
  if (cp <= 0x7f) return !/[0-9a-zA-Z_]/.test(r);
  if (/[\p{L}\p{Nd}]/u.test(r)) return false;
  return /\s/u.test(r);
}

function truncateBytes(s: string, n: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length < n) return s;
  return b.subarray(0, n).toString('utf8');
}

function callFn(fn: unknown, ...args: unknown[]): unknown {
  if (fn === null || fn === undefined) throw new Error('call of nil');
  if (typeof fn !== 'function') throw new Error(`non-function of type ${goTypeName(fn)}`);
  return (fn as (...a: unknown[]) => unknown)(...args);
}

const any1: ParamType[] = ['any'];

export const builtinFuncs: Record<string, FuncDef> = {
  and: { params: any1, variadic: 'any', fn: () => undefined, lazy: 'and' },
  or: { params: any1, variadic: 'any', fn: () => undefined, lazy: 'or' },
  not: { params: any1, fn: (a) => !isTrue(a) },
  len: { params: any1, fn: goLen },
  index: { params: any1, variadic: 'any', fn: goIndex },
  slice: { params: any1, variadic: 'any', fn: goSlice },
  print: { params: [], variadic: 'any', fn: (...a) => sprint(a) },
  printf: { params: ['string'], variadic: 'any', fn: (f, ...a) => sprintf(f as string, a) },
  println: { params: [], variadic: 'any', fn: (...a) => sprintln(a) },
  html: { params: [], variadic: 'any', fn: (...a) => htmlEscape(evalArgs(a)) },
  js: { params: [], variadic: 'any', fn: (...a) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: 'any', fn: (...a) => urlQueryEscape(evalArgs(a)) },
  call: { params: any1, variadic: 'any', fn: callFn },
  eq: { params: any1, variadic: 'any', fn: eq },
  ne: { params: ['any', 'any'], fn: (a, b) => !eq(a, b) },
  lt: { params: ['any', 'any'], fn: lt },
  le: { params: ['any', 'any'], fn: (a, b) => lt(a, b) || eq(a, b) },
  gt: { params: ['any', 'any'], fn: (a, b) => !(lt(a, b) || eq(a, b)) },
  ge: { params: ['any', 'any'], fn: (a, b) => !lt(a, b) },
};

/** docker/cli templates.basicFunctions. */
export const dockerFuncs: Record<string, FuncDef> = {
  json: { params: any1, fn: (v) => goJSON(v, { escapeHTML: false }) },
  split: { params: ['string', 'string'], fn: (s, sep) => goSplit(s as string, sep as string) },
  join: { params: ['[]string', 'string'], fn: (a, sep) => ((a as string[] | null) ?? []).join(sep as string) },
  title: { params: ['string'], fn: (s) => goTitle(s as string) },
  lower: { params: ['string'], fn: (s) => (s as string).toLowerCase() },
  upper: { params: ['string'], fn: (s) => (s as string).toUpperCase() },
  pad: {
    params: ['string', 'int', 'int'],
    fn: (s, pre, suf) => (s === '' ? '' : ' '.repeat(pre as number) + (s as string) + ' '.repeat(suf as number)),
  },
  truncate: { params: ['string', 'int'], fn: (s, n) => truncateBytes(s as string, n as number) },
};

/** docker/cli templates.HeaderFunctions: keep table headers intact. */
export const dockerHeaderFuncs: Record<string, FuncDef> = {
  json: { params: ['string'], fn: (v) => v },
  split: { params: ['string', 'string'], fn: (v) => v },
  join: { params: ['string', 'string'], fn: (v) => v },
  title: { params: ['string'], fn: (v) => v },
  lower: { params: ['string'], fn: (v) => v },
  upper: { params: ['string'], fn: (v) => v },
  truncate: { params: ['string', 'int'], fn: (v) => v },
};

/** Wraps a plain JS function as a template function taking any arguments. */
export function funcDefOf(fn: Function): FuncDef {
  return { params: Array.from({ length: fn.length }, () => 'any' as ParamType), fn: fn as FuncDef['fn'] };
}
