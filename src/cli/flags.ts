// pflag/cobra-compatible argument parsing and help rendering for the berth CLI.
// Docker users rely on pflag's quirks (`-it`, `-eX`, `-e=X`, `--rm=false`, stopping at IMAGE),
// so the rules here follow spf13/pflag rather than any npm parser.

export const PROG = 'berth';

export interface FlagSpec {
  name: string;
  short?: string;
  /** pflag's Value.Type(): 'bool', 'string', 'int', 'int64', 'list', 'stringSlice', 'bytes', … */
  type: string;
  usage: string;
  /** default as pflag prints it in `(default …)` */
  def?: string;
  hidden?: boolean;
  /** validates/converts at parse time; a thrown message becomes pflag's `invalid argument` error */
  parse?: (value: string) => unknown;
}

export type ArgRule =
  | { kind: 'none' }
  | { kind: 'min'; n: number }
  | { kind: 'exact'; n: number }
  | { kind: 'max'; n: number }
  | { kind: 'range'; min: number; max: number }
  | { kind: 'any' };

export interface CommandSpec {
  /** e.g. 'run [OPTIONS] IMAGE [COMMAND] [ARG...]' */
  use: string;
  short: string;
  /** full command paths, e.g. ['berth container run', 'berth run'] */
  aliases?: string[];
  flags: FlagSpec[];
  args?: ArgRule;
  /** stop flag parsing at the first positional (run/create/exec: flags after IMAGE belong to the command) */
  stopAtFirstArg?: boolean;
}

/** An error whose message is printed verbatim on stderr, with the given exit status. */
export class StatusError extends Error {
  constructor(message: string, public readonly status: number = 1) {
    super(message);
  }
}

const LIST_TYPES = new Set([
  'list', 'stringArray', 'stringSlice', 'filter', 'map', 'ulimit', 'mount', 'port', 'network',
  'gpu-request', 'strings', 'command', 'throttle-device', 'weight-device', 'external-ca', 'pem-file',
]);

export function isListType(type: string): boolean {
  return LIST_TYPES.has(type);
}

const INT_TYPES = new Set(['int', 'int64', 'int32', 'int8', 'int16']);
const UINT_TYPES = new Set(['uint', 'uint64', 'uint32', 'uint16', 'uint8']);

export type FlagValue = string | boolean | string[];

export class ParsedFlags {
  private readonly values = new Map<string, FlagValue>();
  private readonly parsed = new Map<string, unknown>();
  constructor(private readonly specs: FlagSpec[]) {}

  private spec(name: string): FlagSpec {
    const s = this.specs.find((f) => f.name === name);
    if (!s) throw new Error(`flag accessed but not defined: ${name}`);
    return s;
  }
  /** set by the parser */
  set(name: string, value: FlagValue, parsed?: unknown): void {
    this.values.set(name, value);
    if (parsed !== undefined) this.parsed.set(name, parsed);
  }
  changed(name: string): boolean {
    this.spec(name);
    return this.values.has(name);
  }
  bool(name: string): boolean {
    const s = this.spec(name);
    const v = this.values.get(name);
    if (v === undefined) return s.def === 'true';
    return v === true;
  }
  string(name: string): string {
    const s = this.spec(name);
    const v = this.values.get(name);
    if (v === undefined) return s.def !== undefined && !isZeroDefault(s) ? s.def : '';
    return Array.isArray(v) ? v[v.length - 1] ?? '' : String(v);
  }
  int(name: string): number {
    const s = this.spec(name);
    const v = this.values.get(name);
    if (v === undefined) return s.def !== undefined ? Number(s.def) : 0;
    return Number(v);
  }
  list(name: string): string[] {
    this.spec(name);
    const v = this.values.get(name);
    if (v === undefined) return [];
    return Array.isArray(v) ? v : [String(v)];
  }
  /** the value produced by the flag's `parse` hook, if any */
  parsedValue<T>(name: string): T | undefined {
    this.spec(name);
    return this.parsed.get(name) as T | undefined;
  }
}

export interface ParseResult {
  flags: ParsedFlags;
  args: string[];
  help: boolean;
}

/** The pflag-style display of a flag in error texts: `-m, --memory` or `--rm`. */
function flagDisplay(f: FlagSpec): string {
  return f.short ? `-${f.short}, --${f.name}` : `--${f.name}`;
}

/** A flag error: cobra prints it with the usage line and exits 125 (docker's FlagErrorFunc). */
export function flagError(path: string, spec: CommandSpec, msg: string): StatusError {
  return new StatusError(
    `${msg}\n\nUsage:  ${usageLine(path, spec)}\n\nRun '${path} --help' for more information`,
    125,
  );
}

export function usageLine(path: string, spec: CommandSpec): string {
  const parent = path.split(' ').slice(0, -1).join(' ');
  return `${parent ? parent + ' ' : ''}${spec.use}`;
}

function setValue(
  out: ParsedFlags,
  f: FlagSpec,
  raw: string,
  fail: (m: string) => never,
  seen: Map<string, string[]>,
): void {
  const invalid = (why: string): never =>
    fail(`invalid argument "${raw}" for "${flagDisplay(f)}" flag: ${why}`);
  if (f.type === 'bool') {
    const b = parseGoBool(raw);
    if (b === undefined) invalid(`strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
    out.set(f.name, b as boolean);
    return;
  }
  if (INT_TYPES.has(f.type) || UINT_TYPES.has(f.type)) {
    const fn = UINT_TYPES.has(f.type) ? 'ParseUint' : 'ParseInt';
    if (!/^[+-]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|\d+)$/.test(raw) || (UINT_TYPES.has(f.type) && raw.startsWith('-'))) {
      invalid(`strconv.${fn}: parsing ${JSON.stringify(raw)}: invalid syntax`);
    }
  }
  let parsed: unknown;
  if (f.parse) {
    try {
      parsed = f.parse(raw);
    } catch (e) {
      invalid((e as Error).message);
    }
  }
  if (isListType(f.type)) {
    const prev = seen.get(f.name) ?? [];
    const items = f.type === 'stringSlice' || f.type === 'strings' ? splitCSV(raw) : [raw];
    prev.push(...items);
    seen.set(f.name, prev);
    out.set(f.name, prev, parsed);
  } else {
    out.set(f.name, raw, parsed);
  }
}

/** Go's strconv.ParseBool */
export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
  return undefined;
}

/** pflag's stringSlice reads each value as one CSV record */
function splitCSV(s: string): string[] {
  if (s === '') return [];
  const out: string[] = [];
  let cur = '';
  let inQ = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inQ) {
      if (c === '"' && s[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') inQ = false; else cur += c;
    } else if (c === '"' && cur === '') inQ = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Parses argv (everything after the command path) the way pflag does.
 * `path` is the command path used in messages, e.g. 'berth run'.
 */
export function parseArgs(spec: CommandSpec, path: string, argv: string[]): ParseResult {
  const flags = new ParsedFlags(spec.flags);
  const args: string[] = [];
  const seen = new Map<string, string[]>();
  const fail = (m: string): never => {
    throw flagError(path, spec, m);
  };
  const byLong = new Map(spec.flags.map((f) => [f.name, f]));
  const byShort = new Map(spec.flags.filter((f) => f.short).map((f) => [f.short as string, f]));
  let help = false;
  let i = 0;
  while (i < argv.length) {
    const a = argv[i++];
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      if (spec.stopAtFirstArg) {
        args.push(...argv.slice(i));
        break;
      }
      continue;
    }
    if (a.startsWith('--')) {
      const body = a.slice(2);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const f = byLong.get(name);
      if (!f) {
        if (name === 'help') {
          help = true;
          continue;
        }
        fail(`unknown flag: --${name}`);
      }
      const flag = f as FlagSpec;
      if (eq >= 0) setValue(flags, flag, body.slice(eq + 1), fail, seen);
      else if (flag.type === 'bool') setValue(flags, flag, 'true', fail, seen);
      else if (i < argv.length) setValue(flags, flag, argv[i++], fail, seen);
      else fail(`flag needs an argument: --${name}`);
      continue;
    }
    // shorthand cluster
    let rest = a.slice(1);
    while (rest.length > 0) {
      const c = rest[0];
      const f = byShort.get(c);
      if (!f) {
        if (c === 'h') {
          help = true;
          rest = rest.slice(1);
          continue;
        }
        fail(`unknown shorthand flag: '${c}' in ${a}`);
      }
      const flag = f as FlagSpec;
      if (rest.length > 2 && rest[1] === '=') {
        setValue(flags, flag, rest.slice(2), fail, seen);
        rest = '';
      } else if (flag.type === 'bool') {
        setValue(flags, flag, 'true', fail, seen);
        rest = rest.slice(1);
      } else if (rest.length > 1) {
        setValue(flags, flag, rest.slice(1), fail, seen);
        rest = '';
      } else if (i < argv.length) {
        setValue(flags, flag, argv[i++], fail, seen);
        rest = '';
      } else {
        fail(`flag needs an argument: '${c}' in ${a}`);
      }
    }
  }
  if (!help) checkArgs(spec, path, args);
  return { flags, args, help };
}

function plural(n: number): string {
  return n === 1 ? 'argument' : 'arguments';
}

export function checkArgs(spec: CommandSpec, path: string, args: string[]): void {
  const rule = spec.args ?? { kind: 'any' };
  let msg: string | undefined;
  let hint = 'Run';
  switch (rule.kind) {
    case 'none':
      if (args.length > 0) msg = 'accepts no arguments';
      break;
    case 'min':
      if (args.length < rule.n) {
        msg = `requires at least ${rule.n} ${plural(rule.n)}`;
        hint = 'See';
      }
      break;
    case 'exact':
      if (args.length !== rule.n) msg = `requires ${rule.n} ${plural(rule.n)}`;
      break;
    case 'max':
      if (args.length > rule.n) msg = `requires at most ${rule.n} ${plural(rule.n)}`;
      break;
    case 'range':
      if (args.length < rule.min || args.length > rule.max) {
        msg = `requires at least ${rule.min} and at most ${rule.max} ${plural(rule.max)}`;
      }
      break;
    case 'any':
      break;
  }
  if (msg) {
    throw new StatusError(
      `${PROG}: '${path}' ${msg}\n\nUsage:  ${usageLine(path, spec)}\n\n${hint} '${path} --help' for more information`,
      1,
    );
  }
}

// ---- help rendering (cobra's usage template as docker customises it, pflag's FlagUsagesWrapped) ----

function isZeroDefault(f: FlagSpec): boolean {
  const d = f.def;
  if (d === undefined) return true;
  if (f.type === 'bool') return d === 'false';
  if (f.type === 'duration') return d === '0' || d === '0s';
  if (INT_TYPES.has(f.type) || UINT_TYPES.has(f.type) || f.type === 'float64') return d === '0';
  if (f.type === 'string') return d === '';
  if (isListType(f.type) && d === '[]') return true;
  return d === 'false' || d === '<nil>' || d === '' || d === '0';
}

function varName(f: FlagSpec): { name: string; usage: string } {
  const map: Record<string, string> = {
    bool: '', float64: 'float', int64: 'int', uint64: 'uint', stringSlice: 'strings', intSlice: 'ints',
  };
  return { name: f.type in map ? map[f.type] : f.type, usage: f.usage };
}

function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

function wrap(i: number, w: number, s: string): string {
  if (w === 0) return s.replaceAll('\n', '\n' + ' '.repeat(i));
  let width = w - i;
  let r = '';
  if (width < 24) {
    i = 16;
    width = w - i;
    r += '\n' + ' '.repeat(i);
  }
  if (width < 24) return s.replaceAll('\n', r);
  const slop = 5;
  width -= slop;
  let l: string;
  [l, s] = wrapN(width, slop, s);
  r += l.replaceAll('\n', '\n' + ' '.repeat(i));
  while (s !== '') {
    let t: string;
    [t, s] = wrapN(width, slop, s);
    r += '\n' + ' '.repeat(i) + t.replaceAll('\n', '\n' + ' '.repeat(i));
  }
  return r;
}

export function flagUsages(flags: FlagSpec[], cols: number): string {
  const lines: string[] = [];
  let maxlen = 0;
  for (const f of [...flags].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (f.hidden) continue;
    let line = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const { name, usage } = varName(f);
    if (name) line += ' ' + name;
    line += '\0';
    if (line.length > maxlen) maxlen = line.length;
    line += usage;
    if (!isZeroDefault(f)) line += f.type === 'string' ? ` (default ${JSON.stringify(f.def)})` : ` (default ${f.def})`;
    lines.push(line);
  }
  let out = '';
  for (const line of lines) {
    const sidx = line.indexOf('\0');
    out += line.slice(0, sidx) + ' ' + ' '.repeat(maxlen - sidx) + ' ' + wrap(maxlen + 2, cols, line.slice(sidx + 1)) + '\n';
  }
  return out;
}

function termWidth(): number {
  const c = process.stdout.isTTY ? process.stdout.columns : undefined;
  return c && c > 0 ? c : 80;
}

export function helpText(spec: CommandSpec, path: string, cols = termWidth()): string {
  let out = `Usage:  ${usageLine(path, spec)}\n\n${spec.short}\n`;
  if (spec.aliases && spec.aliases.length > 0) out += `\nAliases:\n  ${spec.aliases.join(', ')}\n`;
  if (spec.flags.some((f) => !f.hidden)) out += `\nOptions:\n${flagUsages(spec.flags, cols - 1)}`;
  return out;
}
