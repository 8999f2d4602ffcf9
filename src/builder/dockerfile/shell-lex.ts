// Word expansion and splitting with the semantics of BuildKit's `shell` package: the subset of
// POSIX sh quoting and `${}` forms that Dockerfile instructions expand at build time.
import { goQuote, isSpace } from './go-text.js';

export interface LexOptions {
  /** keep the quote characters in the output (used to detect quoted heredoc delimiters) */
  rawQuotes?: boolean;
  /** keep escape tokens in the output */
  rawEscapes?: boolean;
  /** treat quotes as ordinary characters */
  skipProcessQuotes?: boolean;
  /** leave references to unset variables as written instead of expanding them to "" */
  skipUnsetEnv?: boolean;
}

export interface ProcessResult {
  result: string;
  words: string[];
  matched: Set<string>;
  unmatched: Set<string>;
}

export type Env = readonly string[] | ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export class ShellLexError extends Error {
  override name = 'ShellLexError';
}

const EOF = '';

/** `KEY=VALUE` list to a map; a bare `KEY` is set to "", later entries win (BuildEnvs). */
export function buildEnvs(env: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, '');
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

function toMap(env: Env): ReadonlyMap<string, string> {
  if (Array.isArray(env)) return buildEnvs(env as readonly string[]);
  if (env instanceof Map) return env as ReadonlyMap<string, string>;
  return new Map(Object.entries(env as Record<string, string>));
}

export class ShellLex {
  readonly escapeToken: string;
  rawQuotes: boolean;
  rawEscapes: boolean;
  skipProcessQuotes: boolean;
  skipUnsetEnv: boolean;

  constructor(escapeToken = '\\', opts: LexOptions = {}) {
    this.escapeToken = escapeToken;
    this.rawQuotes = opts.rawQuotes ?? false;
    this.rawEscapes = opts.rawEscapes ?? false;
    this.skipProcessQuotes = opts.skipProcessQuotes ?? false;
    this.skipUnsetEnv = opts.skipUnsetEnv ?? false;
  }

  /** Expands variables and removes quoting; spaces between words are kept. */
  processWord(word: string, env: Env): string {
    return this.process(word, env).result;
  }

  /** Expands, then splits into words the way the shell would (quoted spaces stay). */
  processWords(word: string, env: Env): string[] {
    return this.process(word, env).words;
  }

  process(word: string, env: Env): ProcessResult {
    const w = new ShellWord(this, word, toMap(env));
    try {
      const [result, words] = w.processStopOn(EOF, this.rawEscapes);
      return { result, words, matched: w.matches, unmatched: w.nonmatches };
    } catch (e) {
      if (e instanceof ShellLexError) {
        throw new ShellLexError(`failed to process ${goQuote(word)}: ${e.message}`);
      }
      throw e;
    }
  }
}

/** Accumulates shell words: unquoted whitespace separates, quoted text never does. */
class Words {
  word = '';
  words: string[] = [];
  inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWord {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matches = new Set<string>();
  readonly nonmatches = new Set<string>();

  constructor(private readonly lex: ShellLex, source: string, private readonly envs: ReadonlyMap<string, string>) {
    // code points, so multi-unit characters are never split
    this.chars = Array.from(source);
    this.rawEscapes = lex.rawEscapes;
  }

  private peek(): string {
    return this.pos < this.chars.length ? this.chars[this.pos]! : EOF;
  }

  private next(): string {
    return this.pos < this.chars.length ? this.chars[this.pos++]! : EOF;
  }

  processStopOn(stopChar: string, rawEscapes: boolean): [string, string[]] {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.stopOn(stopChar);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private stopOn(stopChar: string): [string, string[]] {
    let result = '';
    const words = new Words();
    const quotes = !this.lex.skipProcessQuotes;
    const esc = this.lex.escapeToken;

    while (this.peek() !== EOF) {
      let ch = this.peek();
      if (stopChar !== EOF && ch === stopChar) {
        this.next();
        return [result, words.finish()];
      }
      if (ch === '$') {
        const tmp = this.processDollar();
        result += tmp;
        words.addString(tmp);
      } else if (quotes && (ch === "'" || ch === '"')) {
        const tmp = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        result += tmp;
        words.addRawString(tmp);
      } else {
        ch = this.next();
        if (ch === esc) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          // the escape token escapes the next character; alone at the end it vanishes
          ch = this.next();
          if (ch === EOF) break;
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
    }
    if (stopChar !== EOF) {
      throw new ShellLexError(`unexpected end of statement while looking for matching ${stopChar}`);
    }
    return [result, words.finish()];
  }

  private processSingleQuote(): string {
    // everything up to the next ' is literal; nothing can be escaped inside
    let result = '';
    let ch = this.next();
    if (this.lex.rawQuotes) result += ch;
    for (;;) {
      ch = this.next();
      if (ch === EOF) throw new ShellLexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.lex.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    // literal except $ expansion; the escape token only escapes " $ and itself
    let result = '';
    const first = this.next();
    if (this.lex.rawQuotes) result += first;
    const esc = this.lex.escapeToken;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new ShellLexError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const ch = this.next();
        if (this.lex.rawQuotes) result += ch;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === esc) {
        if (this.rawEscapes) result += ch;
        const n = this.peek();
        if (n === EOF) continue;
        if (n === '"' || n === '$' || n === esc) ch = this.next();
      }
      result += ch;
    }
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const [value, found] = this.getEnv(name);
      if (!found && this.lex.skipUnsetEnv) return '$' + name;
      return value;
    }

    this.next();
    const p = this.peek();
    if (p === EOF) throw new ShellLexError("syntax error: missing '}'");
    if (p === '{' || p === '}' || p === ':') throw new ShellLexError('syntax error: bad substitution');

    const name = this.processName();
    let ch = this.next();
    let chs = ch === EOF ? '\ufffd' : ch;
    let nullIsUnset = false;

    if (ch === '}') {
      const [value, set] = this.getEnv(name);
      if (!set && this.lex.skipUnsetEnv) return '${' + name + '}';
      return value;
    }
    if (ch === '/') return this.processReplace(name);
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      chs += ch === EOF ? '\ufffd' : ch;
    } else if (!'+-?#%'.includes(ch) || ch === EOF) {
      throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    }

    let word: string;
    try {
      [word] = this.processStopOn('}', ch === '#' || ch === '%');
    } catch (e) {
      if (e instanceof ShellLexError && this.peek() === EOF) throw new ShellLexError("syntax error: missing '}'");
      throw e;
    }

    const [value, set] = this.getEnv(name);
    if (this.lex.skipUnsetEnv && !set) return '${' + name + chs + word + '}';

    switch (ch) {
      case '-':
        return !set || (nullIsUnset && value === '') ? word : value;
      case '+':
        return !set || (nullIsUnset && value === '') ? '' : word;
      case '?':
        if (!set) throw new ShellLexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new ShellLexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
        return value;
      case '%':
      case '#': {
        // a doubled operator (%% / ##) removes the longest match instead of the shortest
        let greedy = false;
        if (word.length > 0 && word[0] === ch) {
          greedy = true;
          word = word.slice(1);
        }
        return ch === '%' ? trimSuffix(word, value, greedy) : trimPrefix(word, value, greedy);
      }
      default:
        throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const replaceAll = this.peek() === '/';
    if (replaceAll) this.next();
    let pattern: string;
    try {
      [pattern] = this.processStopOn('/', true);
    } catch (e) {
      if (e instanceof ShellLexError && this.peek() === EOF) throw new ShellLexError("syntax error: missing '/' in ${}");
      throw e;
    }
    let replacement: string;
    try {
      [replacement] = this.processStopOn('}', true);
    } catch (e) {
      if (e instanceof ShellLexError && this.peek() === EOF) throw new ShellLexError("syntax error: missing '}'");
      throw e;
    }
    const [value, set] = this.getEnv(name);
    if (this.lex.skipUnsetEnv && !set) return '${' + name + '/' + pattern + '/' + replacement + '}';
    const re = patternRegex(pattern, true, false, replaceAll);
    if (replaceAll) {
      // Go's ReplaceAllString expands $-templates in the replacement; there are no groups, so
      // only $0 (the match) and $$ mean something, everything else named expands to ""
      return value.replace(re, (m) => expandTemplate(replacement, m));
    }
    const m = re.exec(value);
    if (!m) return value;
    return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && isDigit(ch)) {
        // positional parameters: all the digits, never set in a Dockerfile
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name.length === 0 && '@*#?-$!0'.includes(ch)) {
        return this.next();
      }
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private getEnv(name: string): [string, boolean] {
    const v = this.envs.get(name);
    if (v !== undefined) {
      this.matches.add(name);
      return [v, true];
    }
    this.nonmatches.add(name);
    return ['', false];
  }
}

function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}

function isLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch);
}

function expandTemplate(template: string, match: string): string {
  return template.replace(/\$(\$|\{([^}]*)\}|([A-Za-z0-9_]+))/g, (_all, tok: string, braced?: string, bare?: string) => {
    if (tok === '$') return '$';
    const name = braced ?? bare ?? '';
    return name === '0' ? match : '';
  });
}

/**
 * A shell wildcard pattern (`*`, `?`, backslash escapes; no bracket expressions) as a regex.
 * `*` is lazy unless greedy; anchored patterns only match at the start.
 */
export function patternRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i]!;
    if (tok === '*') { out += star; continue; }
    if (tok === '?') { out += '.'; continue; }
    if (tok === '\\') {
      // inside ${} a backslash before } or / only protects the delimiter
      const n = chars[i + 1];
      if (n === '}' || n === '/') continue;
      if (n !== '*' && n !== '?' && n !== '\\') {
        throw new ShellLexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? '\ufffd'}'`);
      }
      out += '\\' + n;
      i++;
      continue;
    }
    if ('[]{}.+()|^$'.includes(tok)) out += '\\';
    out += tok;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Reverses a pattern but keeps each escape before the character it escapes. */
export function reversePattern(pattern: string): string {
  const src = Array.from(pattern);
  const out = new Array<string>(src.length);
  const last = src.length - 1;
  for (let i = 0; i <= last;) {
    const tok = src[i]!;
    const o = last - i;
    if (tok === '\\' && i !== last) {
      out[o - 1] = tok;
      out[o] = src[i + 1]!;
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // a regex finds the leftmost match only, so the shortest/longest suffix is found as a
  // prefix of the reversed value with the reversed pattern
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}
