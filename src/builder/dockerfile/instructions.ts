// Typed instructions from AST nodes, and the split into build stages, with BuildKit's rules
// and error texts. Nothing is expanded here: values keep their quotes and `$VAR`s for the
// builder to expand with the stage's ARG/ENV at dispatch time.
import { nodeArgs, type Node } from './ast.js';
import { BFlags } from './bflags.js';
import { parseGoDuration } from './duration.js';
import { DockerfileParseError, InstructionError, errorText } from './errors.js';
import { chompHeredocContent, parseHeredoc } from './heredoc.js';
import { instructionNames } from './line-parsers.js';
import { parseDevice, type Device } from './run-device.js';
import { parseMount, type Mount } from './run-mount.js';
import { withSuggestion } from './suggest.js';

export interface Location {
  startLine: number;
  endLine: number;
}

interface Base {
  /** the instruction's source text */
  code: string;
  location: Location;
}

export interface KeyValuePair {
  key: string;
  value: string;
  /** legacy `ENV k v` form */
  noDelim: boolean;
}

export interface KeyValuePairOptional {
  key: string;
  value?: string;
  comment: string;
}

export interface ShellInlineFile {
  name: string;
  data: string;
  chomp: boolean;
}

/** CMD/ENTRYPOINT/RUN arguments: exec form, or one shell-form string run through SHELL. */
export interface ShellDependentCmdLine {
  cmdLine: string[] | null;
  files: ShellInlineFile[];
  prependShell: boolean;
}

export interface SourceContent {
  path: string;
  data: string;
  expand: boolean;
}

export interface SourcesAndDest {
  destPath: string;
  sourcePaths: string[];
  sourceContents: SourceContent[];
}

export interface HealthConfig {
  /** ["NONE"], ["CMD", ...exec], or ["CMD-SHELL", cmd] */
  test: string[];
  /** nanoseconds, 0 = inherit the default */
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export type RunNetwork = 'default' | 'none' | 'host';

export interface RunOptions {
  /** the `--mount` values as written */
  mountSpecs: string[];
  /** the parsed mounts, or null when a spec uses variables: then call resolveMounts with the builder's expander */
  mounts: Mount[] | null;
  network: RunNetwork;
  security: RunSecurity;
  /** CDI devices requested with `--device` */
  devices: Device[];
  flagsUsed: string[];
}

/** Parses RUN's mounts with the variables of the stage expanded. */
export function resolveMounts(specs: readonly string[], expand: (word: string) => string = (w) => w): Mount[] {
  return specs.map((s) => parseMount(s, expand));
}
export type RunSecurity = 'sandbox' | 'insecure';

export type Command =
  | (Base & { kind: 'env'; env: KeyValuePair[] })
  | (Base & { kind: 'maintainer'; maintainer: string })
  | (Base & { kind: 'label'; labels: KeyValuePair[] })
  | (Base & { kind: 'add'; sources: SourcesAndDest; chown: string; chmod: string; link: boolean; keepGitDir: boolean; checksum: string; exclude: string[]; unpack?: boolean })
  | (Base & { kind: 'copy'; sources: SourcesAndDest; from: string; chown: string; chmod: string; link: boolean; parents: boolean; exclude: string[] })
  | (Base & { kind: 'onbuild'; expression: string; trigger: Node | null })
  | (Base & { kind: 'workdir'; path: string })
  | (Base & { kind: 'run' } & ShellDependentCmdLine & RunOptions)
  | (Base & { kind: 'cmd' } & ShellDependentCmdLine)
  | (Base & { kind: 'entrypoint' } & ShellDependentCmdLine)
  | (Base & { kind: 'healthcheck'; health: HealthConfig })
  | (Base & { kind: 'expose'; ports: string[] })
  | (Base & { kind: 'user'; user: string })
  | (Base & { kind: 'volume'; volumes: string[] })
  | (Base & { kind: 'stopsignal'; signal: string })
  | (Base & { kind: 'arg'; args: KeyValuePairOptional[] })
  | (Base & { kind: 'shell'; shell: string[] });

export type CommandKind = Command['kind'];
export type CommandOf<K extends CommandKind> = Extract<Command, { kind: K }>;

export interface Stage {
  kind: 'from';
  /** lower-cased `AS` name, "" when unnamed */
  name: string;
  baseName: string;
  platform: string;
  sourceCode: string;
  commands: Command[];
  location: Location;
  comment: string;
}

export type Instruction = Stage | Command;

interface Req {
  command: string;
  args: string[];
  node: Node;
  flags: BFlags;
  base: Base;
  json: boolean;
}

const fail = (msg: string): never => {
  throw new InstructionError(msg);
};
const errAtLeastOne = (c: string) => fail(`${c} requires at least one argument`);
const errExactlyOne = (c: string) => fail(`${c} requires exactly one argument`);
const errNoDest = (c: string) => fail(`${c} requires at least two arguments, but only one was provided. Destination could not be determined`);
const errBlankNames = (c: string) => fail(`${c} names can not be blank`);

function parseKvps(args: string[], cmd: string): KeyValuePair[] {
  if (args.length === 0) errAtLeastOne(cmd);
  if (args.length % 3 !== 0) fail(`Bad input to ${cmd}, too many arguments`);
  const out: KeyValuePair[] = [];
  for (let j = 0; j < args.length; j += 3) {
    if (args[j]!.length === 0) errBlankNames(cmd);
    out.push({ key: args[j]!, value: args[j + 1]!, noDelim: args[j + 2] === '' });
  }
  return out;
}

/** JSON arguments as they are; shell form joined into one string. */
function handleJSONArgs(args: string[], json: boolean): string[] {
  if (args.length === 0) return [];
  return json ? args : [args.join(' ')];
}

function shellDependent(req: Req, emptyAsNil: boolean): ShellDependentCmdLine {
  const cmd = handleJSONArgs(req.args, req.json);
  return {
    cmdLine: emptyAsNil && cmd.length === 0 ? null : cmd,
    files: req.node.heredocs.map((h) => ({ name: h.name, data: h.content, chomp: h.chomp })),
    prependShell: !req.json,
  };
}

function sourcesAndDest(req: Req, command: string): SourcesAndDest {
  const srcs = req.args.slice(0, -1);
  const dest = req.args[req.args.length - 1]!;
  if (parseHeredocQuiet(dest)) fail(`${command} cannot accept a heredoc as a destination`);
  const byName = new Map(req.node.heredocs.map((h) => [h.name, h]));
  const out: SourcesAndDest = { destPath: dest, sourcePaths: [], sourceContents: [] };
  for (const src of srcs) {
    const h = parseHeredocQuiet(src);
    if (h) {
      let content = byName.get(h.name)?.content ?? '';
      if (h.chomp) content = chompHeredocContent(content);
      out.sourceContents.push({ path: h.name, data: content, expand: h.expand });
    } else {
      out.sourcePaths.push(src);
    }
  }
  return out;
}

function parseHeredocQuiet(word: string) {
  try {
    return parseHeredoc(word);
  } catch {
    return null;
  }
}

const validStageName = /^[a-z][a-z0-9-_.]*$/;

function stageName(args: string[]): string {
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    const name = args[2]!.toLowerCase();
    if (!validStageName.test(name)) {
      fail(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
    }
    return name;
  }
  if (args.length !== 1) fail('FROM requires either one or three arguments');
  return '';
}

function getComment(comments: string[], name: string): string {
  if (name === '') return '';
  for (const line of comments) if (line.startsWith(name + ' ')) return line.slice(name.length + 1);
  return '';
}

const minimumDuration = 1e6; // 1ms, as the Engine API requires

function parseOptInterval(name: string, value: string): number {
  if (value === '') return 0;
  let d: number;
  try {
    d = parseGoDuration(value);
  } catch (e) {
    return fail(errorText(e));
  }
  if (d === 0) return 0;
  if (d < minimumDuration) fail(`Interval "${name}" cannot be less than 1ms`);
  return d;
}

function parseHealthcheck(req: Req): Command {
  if (req.args.length === 0) errAtLeastOne('HEALTHCHECK');
  let typ = req.args[0]!.toUpperCase();
  const args = req.args.slice(1);
  if (typ === 'NONE') {
    if (args.length !== 0) fail('HEALTHCHECK NONE takes no arguments');
    return { kind: 'healthcheck', ...req.base, health: { test: [typ], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 } };
  }
  const interval = req.flags.addString('interval');
  const timeout = req.flags.addString('timeout');
  const startPeriod = req.flags.addString('start-period');
  const startInterval = req.flags.addString('start-interval');
  const retries = req.flags.addString('retries');
  req.flags.parse();
  if (typ !== 'CMD') fail(`Unknown type "${typ}" in HEALTHCHECK (try CMD)`);
  const cmd = handleJSONArgs(args, req.json);
  if (cmd.length === 0) fail('Missing command after HEALTHCHECK CMD');
  if (!req.json) typ = 'CMD-SHELL';
  const health: HealthConfig = {
    test: [typ, ...cmd],
    interval: parseOptInterval('interval', interval.value),
    timeout: parseOptInterval('timeout', timeout.value),
    startPeriod: parseOptInterval('start-period', startPeriod.value),
    startInterval: parseOptInterval('start-interval', startInterval.value),
    retries: 0,
  };
  if (retries.value !== '') {
    const v = retries.value;
    const n = /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
    if (Number.isNaN(n)) fail(`strconv.ParseInt: parsing "${v}": invalid syntax`);
    if (n > 2147483647 || n < -2147483648) fail(`strconv.ParseInt: parsing "${v}": value out of range`);
    if (n < 0) fail(`--retries cannot be negative (${n})`);
    health.retries = n;
  }
  return { kind: 'healthcheck', ...req.base, health };
}

function parseRun(req: Req): Command {
  const mountFlag = req.flags.addStrings('mount');
  const network = req.flags.addString('network', 'default');
  const security = req.flags.addString('security', 'sandbox');
  const device = req.flags.addStrings('device');
  req.flags.parse();
  const flagsUsed = req.flags.used();
  const line = shellDependent(req, false);
  const mountSpecs = mountFlag.values;
  // BuildKit checks the mounts' structure here and their values once variables are known
  for (const spec of mountSpecs) parseMount(spec, null);
  const mounts = mountSpecs.some((s) => s.includes('$')) ? null : resolveMounts(mountSpecs);
  if (!['default', 'none', 'host'].includes(network.value)) fail(`invalid network mode "${network.value}"`);
  if (!['sandbox', 'insecure'].includes(security.value)) fail(`security "${security.value}" is not valid`);
  const devices = device.values.map(parseDevice);
  return {
    kind: 'run', ...req.base, ...line, mountSpecs, mounts, devices, flagsUsed,
    network: network.value as RunNetwork, security: security.value as RunSecurity,
  };
}

function parseArg(req: Req): Command {
  if (req.args.length < 1) errAtLeastOne('ARG');
  const args = req.args.map((arg): KeyValuePairOptional => {
    const eq = arg.indexOf('=');
    if (eq < 0) return { key: arg, comment: getComment(req.node.prevComment, arg) };
    const key = arg.slice(0, eq);
    if (key === '') errBlankNames('ARG');
    return { key, value: arg.slice(eq + 1), comment: getComment(req.node.prevComment, key) };
  });
  return { kind: 'arg', ...req.base, args };
}

const parsers: Record<string, (req: Req) => Instruction> = {
  env(req) {
    req.flags.parse();
    return { kind: 'env', ...req.base, env: parseKvps(req.args, 'ENV') };
  },
  maintainer(req) {
    if (req.args.length !== 1) errExactlyOne('MAINTAINER');
    req.flags.parse();
    return { kind: 'maintainer', ...req.base, maintainer: req.args[0]! };
  },
  label(req) {
    req.flags.parse();
    return { kind: 'label', ...req.base, labels: parseKvps(req.args, 'LABEL') };
  },
  add(req) {
    if (req.args.length < 2) errNoDest('ADD');
    const chown = req.flags.addString('chown');
    const chmod = req.flags.addString('chmod');
    const link = req.flags.addBool('link');
    const keepGitDir = req.flags.addBool('keep-git-dir');
    const checksum = req.flags.addString('checksum');
    const exclude = req.flags.addStrings('exclude');
    const unpack = req.flags.addBool('unpack');
    req.flags.parse();
    return {
      // unpack stays unset unless written: the default depends on the source (local vs URL)
      ...(unpack.used ? { unpack: unpack.value === 'true' } : {}),
      kind: 'add', ...req.base, sources: sourcesAndDest(req, 'ADD'), chown: chown.value, chmod: chmod.value,
      link: link.value === 'true', keepGitDir: keepGitDir.value === 'true', checksum: checksum.value, exclude: exclude.values,
    };
  },
  copy(req) {
    if (req.args.length < 2) errNoDest('COPY');
    const chown = req.flags.addString('chown');
    const from = req.flags.addString('from');
    const chmod = req.flags.addString('chmod');
    const link = req.flags.addBool('link');
    const parents = req.flags.addBool('parents');
    const exclude = req.flags.addStrings('exclude');
    req.flags.parse();
    return {
      kind: 'copy', ...req.base, sources: sourcesAndDest(req, 'COPY'), from: from.value, chown: chown.value,
      chmod: chmod.value, link: link.value === 'true', parents: parents.value === 'true', exclude: exclude.values,
    };
  },
  from(req) {
    const name = stageName(req.args);
    const platform = req.flags.addString('platform');
    req.flags.parse();
    return {
      kind: 'from', name, baseName: req.args[0]!, platform: platform.value, sourceCode: req.base.code,
      commands: [], location: req.base.location, comment: getComment(req.node.prevComment, name),
    };
  },
  onbuild(req) {
    if (req.args.length === 0) errAtLeastOne('ONBUILD');
    req.flags.parse();
    const trigger = req.args[0]!.trim().toUpperCase();
    if (trigger === 'ONBUILD') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
    let expression = req.node.original.replace(/^\s*ONBUILD\s*/i, '');
    for (const h of req.node.heredocs) expression += '\n' + h.content + h.name;
    return { kind: 'onbuild', ...req.base, expression, trigger: req.node.next?.children[0] ?? null };
  },
  workdir(req) {
    if (req.args.length !== 1) errExactlyOne('WORKDIR');
    req.flags.parse();
    return { kind: 'workdir', ...req.base, path: req.args[0]! };
  },
  run: parseRun,
  cmd(req) {
    req.flags.parse();
    return { kind: 'cmd', ...req.base, ...shellDependent(req, false) };
  },
  entrypoint(req) {
    req.flags.parse();
    return { kind: 'entrypoint', ...req.base, ...shellDependent(req, true) };
  },
  healthcheck: parseHealthcheck,
  expose(req) {
    if (req.args.length === 0) errAtLeastOne('EXPOSE');
    req.flags.parse();
    return { kind: 'expose', ...req.base, ports: [...req.args].sort() };
  },
  user(req) {
    if (req.args.length !== 1) errExactlyOne('USER');
    req.flags.parse();
    return { kind: 'user', ...req.base, user: req.args[0]! };
  },
  volume(req) {
    if (req.args.length === 0) errAtLeastOne('VOLUME');
    req.flags.parse();
    const volumes = req.args.map((v) => {
      const t = v.trim();
      if (t === '') fail('VOLUME specified can not be an empty string');
      return t;
    });
    return { kind: 'volume', ...req.base, volumes };
  },
  stopsignal(req) {
    // BuildKit never checks STOPSIGNAL's flags
    if (req.args.length !== 1) errExactlyOne('STOPSIGNAL');
    return { kind: 'stopsignal', ...req.base, signal: req.args[0]! };
  },
  arg: parseArg,
  shell(req) {
    req.flags.parse();
    const shell = handleJSONArgs(req.args, req.json);
    if (shell.length === 0) errAtLeastOne('SHELL');
    if (!req.json) fail('SHELL requires the arguments to be in JSON form');
    return { kind: 'shell', ...req.base, shell };
  },
};

const upperNames = instructionNames.map((n) => n.toUpperCase());

/**
 * One AST node to a typed instruction. Throws InstructionError with BuildKit's bare message
 * (parseStages adds the line).
 */
export function parseInstruction(node: Node): Instruction {
  const fn = Object.prototype.hasOwnProperty.call(parsers, node.value.toLowerCase()) ? parsers[node.value.toLowerCase()] : undefined;
  if (!fn) {
    fail(withSuggestion(`unknown instruction: ${node.value}`, node.value, upperNames, false));
  }
  const req: Req = {
    command: node.value,
    args: nodeArgs(node),
    node,
    flags: new BFlags(node.flags),
    base: { code: node.original.trim(), location: { startLine: node.startLine, endLine: node.endLine } },
    json: node.attributes.json === true,
  };
  return fn!(req);
}

export interface StagesResult {
  stages: Stage[];
  /** ARGs before the first FROM: usable in FROM lines, and as defaults when redeclared in a stage */
  metaArgs: CommandOf<'arg'>[];
}

/** Splits parsed instructions into stages; errors carry `dockerfile parse error on line N:`. */
export function parseStages(children: readonly Node[]): StagesResult {
  const stages: Stage[] = [];
  const metaArgs: CommandOf<'arg'>[] = [];
  for (const n of children) {
    let ins: Instruction;
    try {
      ins = parseInstruction(n);
    } catch (e) {
      if (e instanceof InstructionError) throw new DockerfileParseError(e.message, n.startLine, n.endLine);
      throw e;
    }
    if (ins.kind === 'from') {
      stages.push(ins);
    } else if (stages.length === 0) {
      if (ins.kind !== 'arg') throw new DockerfileParseError('no build stage in current context', n.startLine, n.endLine);
      metaArgs.push(ins);
    } else {
      stages[stages.length - 1]!.commands.push(ins);
    }
  }
  return { stages, metaArgs };
}
