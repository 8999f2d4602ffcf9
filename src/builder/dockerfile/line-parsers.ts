// Per-instruction argument parsers: each turns the text after the instruction name (and its
// flags) into the chain of argument nodes BuildKit's parser builds for that instruction.
import { newNode, type Node } from './ast.js';
import { InstructionError } from './errors.js';
import { goQuote, isSpace, trimLeftSpace, trimSpace } from './go-text.js';

export interface LineContext {
  escapeToken: string;
}

type LineParser = (rest: string, d: LineContext) => { next: Node | null; json?: boolean };

const reWhitespace = /[\t\v\f\r ]+/;

export const errNotStringArray = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Splits `CMD --flag=x args` into the name, the leading `--` flags, and the trimmed rest. */
export function splitCommand(line: string): { cmd: string; flags: string[]; args: string } {
  const trimmed = trimSpace(line);
  const m = reWhitespace.exec(trimmed);
  const cmd = m ? trimmed.slice(0, m.index) : trimmed;
  let args = '';
  let flags: string[] = [];
  if (m) {
    [args, flags] = extractBuilderFlags(trimmed.slice(m.index + m[0].length));
  }
  return { cmd, flags, args: trimSpace(args) };
}

/**
 * Takes the `--name[=value]` words off the front of the arguments. Quotes and backslashes in
 * flag words are interpreted; a bare `--` ends the flags.
 */
export function extractBuilderFlags(line: string): [string, string[]] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos]! : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return [line.slice(pos), words];
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return [line.slice(pos), words];
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      let c = ch;
      if (c === '\\') {
        if (pos + 1 === line.length) continue;
        c = line[++pos]!;
      }
      word += c;
      continue;
    }
    // in quotes
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    let c = ch;
    if (c === '\\') {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      c = line[++pos]!;
    }
    word += c;
  }
  return ['', words];
}

/**
 * Splits on unquoted whitespace but keeps quotes and escapes in the words: they are removed
 * later, when the builder expands the words.
 */
export function parseWords(rest: string, d: LineContext): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let i = 0; i <= chars.length; i++) {
    let ch = i < chars.length ? chars[i]! : '';
    if (phase === 'spaces') {
      if (i === chars.length) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (i === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === d.escapeToken) {
        if (i + 1 === chars.length) continue;
        word += ch;
        ch = chars[++i]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    // nothing escapes inside single quotes
    if (ch === d.escapeToken && quote !== "'") {
      if (i + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      ch = chars[++i]!;
    }
    word += ch;
  }
  return words;
}

function keyValueNode(key: string, value: string, sep: string): Node {
  return newNode(key, newNode(value, newNode(sep)));
}

/** ENV and LABEL: `k=v ...`, or the legacy `k v` form (separator "" in the AST). */
function parseNameVal(rest: string, key: string, d: LineContext): Node | null {
  const words = parseWords(rest, d);
  if (words.length === 0) return null;
  if (!words[0]!.includes('=')) {
    const m = reWhitespace.exec(rest);
    if (!m) throw new InstructionError(`${key} must have two arguments`);
    return keyValueNode(rest.slice(0, m.index), rest.slice(m.index + m[0].length), '');
  }
  let root: Node | null = null;
  let tail: Node | null = null;
  for (const w of words) {
    const i = w.indexOf('=');
    if (i < 0) throw new InstructionError(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    const n = keyValueNode(w.slice(0, i), w.slice(i + 1), '=');
    if (!root) root = n;
    if (tail) tail.next = n;
    tail = n.next!.next;
  }
  return root;
}

const parseIgnore: LineParser = () => ({ next: newNode() });

const parseEnvLike = (key: string): LineParser => (rest, d) => ({ next: parseNameVal(rest, key, d) });

/** ARG: each word is `name` or `name=value`, quotes kept. */
const parseNameOrNameVal: LineParser = (rest, d) => {
  let root: Node | null = null;
  let prev: Node | null = null;
  for (const w of parseWords(rest, d)) {
    const n = newNode(w);
    if (!root) root = n;
    if (prev) prev.next = n;
    prev = n;
  }
  return { next: root };
};

function whitespaceList(rest: string): Node | null {
  if (rest === '') return null;
  let root: Node | null = null;
  let prev: Node | null = null;
  for (const s of rest.split(reWhitespace)) {
    const n = newNode(s);
    if (!root) root = n;
    if (prev) prev.next = n;
    prev = n;
  }
  return root;
}

const parseStringsWhitespaceDelimited: LineParser = (rest) => ({ next: whitespaceList(rest) });

const parseString: LineParser = (rest) => ({ next: rest === '' ? null : newNode(rest) });

class NotJSON extends Error {}

/** Length of the first JSON array in `s` (which starts with `[`), or -1: like Go's json.Decoder, trailing text is ignored. */
function firstJSONValueEnd(s: string): number {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function parseJSON(rest: string): { next: Node | null; json: true } {
  rest = trimLeftSpace(rest);
  if (!rest.startsWith('[')) throw new NotJSON();
  const end = firstJSONValueEnd(rest);
  if (end < 0) throw new NotJSON();
  let value: unknown;
  try {
    value = JSON.parse(rest.slice(0, end));
  } catch {
    throw new NotJSON();
  }
  if (!Array.isArray(value)) throw new NotJSON();
  let root: Node | null = null;
  let prev: Node | null = null;
  for (const v of value) {
    if (typeof v !== 'string') throw new InstructionError(errNotStringArray);
    const n = newNode(v);
    if (!root) root = n;
    if (prev) prev.next = n;
    prev = n;
  }
  return { next: root, json: true };
}

/** Exec form when the text is a JSON string array, otherwise the whole text as one shell-form argument. */
function parseMaybeJSON(rest: string): { next: Node | null; json?: boolean } {
  if (rest === '') return { next: null };
  try {
    return parseJSON(rest);
  } catch (e) {
    if (!(e instanceof NotJSON)) throw e;
  }
  return { next: newNode(rest) };
}

const parseMaybeJSONToList: LineParser = (rest) => {
  try {
    return parseJSON(rest);
  } catch (e) {
    if (!(e instanceof NotJSON)) throw e;
  }
  return { next: whitespaceList(rest) };
};

/** HEALTHCHECK: the type word (CMD, NONE, …), then CMD's arguments as for CMD. */
const parseHealthConfig: LineParser = (rest) => {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep]!)) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest[next]!)) next++;
  if (sep === 0) return { next: null };
  const cmd = parseMaybeJSON(rest.slice(next));
  return { next: newNode(rest.slice(0, sep), cmd.next), ...(cmd.json ? { json: true } : {}) };
};

const parseSubCommand: LineParser = (rest, d) => {
  if (rest === '') return { next: null };
  const child = newNodeFromLine(rest, d, []);
  const holder = newNode();
  holder.children.push(child);
  return { next: holder };
};

const dispatch: Record<string, LineParser> = {
  add: parseMaybeJSONToList,
  arg: parseNameOrNameVal,
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: parseEnvLike('ENV'),
  expose: parseStringsWhitespaceDelimited,
  from: parseStringsWhitespaceDelimited,
  healthcheck: parseHealthConfig,
  label: parseEnvLike('LABEL'),
  maintainer: parseString,
  onbuild: parseSubCommand,
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

export const instructionNames = Object.keys(dispatch);

/** One logical line to an instruction node; unknown instructions parse (and fail later, in the instruction model). */
export function newNodeFromLine(line: string, d: LineContext, comments: string[]): Node {
  const { cmd, flags, args } = splitCommand(line);
  const fn = Object.prototype.hasOwnProperty.call(dispatch, cmd.toLowerCase()) ? dispatch[cmd.toLowerCase()]! : parseIgnore;
  const parsed = fn(args, d);
  const node = newNode(cmd, parsed.next);
  node.original = line;
  node.flags = flags;
  node.prevComment = comments;
  if (parsed.json) node.attributes = { json: true };
  return node;
}
