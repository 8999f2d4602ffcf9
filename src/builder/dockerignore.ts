// .dockerignore: reading the file and matching context paths, with docker's rules
// (moby/patternmatcher and its ignorefile reader): `*`, `?`, `[...]`, `**`, `!` exceptions
// where the last matching pattern wins, and a pattern excluding a directory excluding all
// below it.

export class DockerignoreError extends Error {
  override name = 'DockerignoreError';
}

const errBadPattern = 'syntax error in pattern';

/** Go's path.Clean: lexical, `/`-separated. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = out.join('/');
  if (rooted) return '/' + s;
  return s === '' ? '.' : s;
}

/**
 * The patterns of a .dockerignore file: `#` lines are comments (only at column 0), lines
 * are trimmed, empty lines skipped, paths cleaned and made relative (`/a` is `a`).
 */
export function readDockerignore(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\ufeff')) line = line.slice(1);
    if (line.startsWith('#')) return;
    let pattern = line.trim();
    if (pattern === '') return;
    const invert = pattern[0] === '!';
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern[0] === '/') pattern = pattern.slice(1);
    }
    out.push(invert ? '!' + pattern : pattern);
  });
  return out;
}

/** filepath.Match's syntax check: brackets closed and well formed, no trailing backslash. */
function validateGlob(p: string): boolean {
  const chars = Array.from(p);
  let i = 0;
  const getEsc = (): boolean => {
    const c = chars[i];
    if (c === undefined || c === '-' || c === ']') return false;
    if (c === '\\') {
      i++;
      if (chars[i] === undefined) return false;
    }
    i++;
    return true;
  };
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '\\') {
      if (i + 1 >= chars.length) return false;
      i += 2;
    } else if (c === '[') {
      i++;
      if (chars[i] === '^') i++;
      let nrange = 0;
      for (;;) {
        if (chars[i] === ']' && nrange > 0) {
          i++;
          break;
        }
        if (!getEsc()) return false;
        if (chars[i] === '-') {
          i++;
          if (!getEsc()) return false;
        }
        nrange++;
      }
    } else {
      i++;
    }
  }
  return true;
}

/** Code-point semantics like Go's regexp where the pattern allows; escapes that unicode mode rejects fall back. */
function compileRegexp(re: string): RegExp {
  try {
    return new RegExp(re, 'u');
  } catch {
    try {
      return new RegExp(re);
    } catch {
      throw new DockerignoreError(errBadPattern);
    }
  }
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

// regex metacharacters that are plain characters in a glob ([ ] \ * ? are handled apart)
const escapeChars = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

export class Pattern {
  readonly exclusion: boolean;
  readonly cleanedPattern: string;
  readonly dirs: string[];
  private matchType: MatchType | undefined;
  private regexp: RegExp | undefined;

  constructor(cleaned: string, exclusion: boolean) {
    this.cleanedPattern = cleaned;
    this.exclusion = exclusion;
    this.dirs = cleaned.split('/');
  }

  toString(): string {
    return this.cleanedPattern;
  }

  private compile(): void {
    let re = '^';
    let type: MatchType = 'exact';
    const chars = Array.from(this.cleanedPattern);
    for (let i = 0, n = 0; i < chars.length; n++) {
      const ch = chars[i++]!;
      if (ch === '*') {
        if (chars[i] === '*') {
          i++;
          // `**/` is the same as `**`
          if (chars[i] === '/') i++;
          if (i >= chars.length) {
            // a trailing ** accepts everything below, as in .gitignore
            if (type === 'exact') type = 'prefix';
            else {
              re += '.*';
              type = 'regexp';
            }
          } else {
            re += '(.*/)?';
            type = 'regexp';
          }
          if (n === 0) type = 'suffix';
        } else {
          re += '[^/]*';
          type = 'regexp';
        }
      } else if (ch === '?') {
        re += '[^/]';
        type = 'regexp';
      } else if (escapeChars.has(ch)) {
        re += '\\' + ch;
      } else if (ch === '\\') {
        if (i < chars.length) {
          re += '\\' + chars[i++]!;
          type = 'regexp';
        } else {
          re += '\\\\';
        }
      } else if (ch === '[' || ch === ']') {
        re += ch;
        type = 'regexp';
      } else {
        re += ch;
      }
    }
    if (type === 'regexp') {
      this.regexp = compileRegexp(re + '$');
    }
    this.matchType = type;
  }

  match(path: string): boolean {
    if (this.matchType === undefined) this.compile();
    switch (this.matchType!) {
      case 'exact':
        return path === this.cleanedPattern;
      case 'prefix':
        return path.startsWith(this.cleanedPattern.slice(0, -2));
      case 'suffix': {
        const suffix = this.cleanedPattern.slice(2);
        if (path.endsWith(suffix)) return true;
        // `**/foo` also matches `foo` itself
        return suffix[0] === '/' && path === suffix.slice(1);
      }
      case 'regexp':
        return this.regexp!.test(path);
    }
  }
}

function parentDirs(file: string): string[] | null {
  const slash = file.lastIndexOf('/');
  if (slash < 0) return null;
  const parent = cleanPath(file.slice(0, slash) || '/');
  if (parent === '.') return null;
  return parent.split('/');
}

/** Per-pattern results for a directory, handed down while walking a tree. */
export interface MatchInfo {
  parentMatched: boolean[];
}

export class PatternMatcher {
  readonly patterns: Pattern[] = [];
  /** whether any pattern is a `!` exception (a walker can then not skip excluded dirs wholesale) */
  readonly exclusions: boolean = false;

  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) throw new DockerignoreError('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
        this.exclusions = true;
      }
      if (!validateGlob(p)) throw new DockerignoreError(errBadPattern);
      this.patterns.push(new Pattern(p, exclusion));
    }
  }

  /** Whether a context path (slash-separated, relative) is excluded, itself or through a parent directory. */
  matches(file: string): boolean {
    const dirs = parentDirs(file);
    let matched = false;
    for (const pattern of this.patterns) {
      // an inclusion cannot change an already matched file, an exclusion an unmatched one
      if (pattern.exclusion !== matched) continue;
      let m = pattern.match(file);
      if (!m && dirs) {
        for (let i = 0; i < dirs.length && !m; i++) m = pattern.match(dirs.slice(0, i + 1).join('/'));
      }
      if (m) matched = !pattern.exclusion;
    }
    return matched;
  }

  /** Like matches, with no parent-directory matching. */
  matchesExact(file: string): boolean {
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      if (pattern.match(file)) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * For tree walks: the parent directory's MatchInfo saves re-matching its ancestors.
   * Pass `undefined` for top-level entries (or when the parent's result is unknown).
   */
  matchesUsingParentResults(file: string, parent?: MatchInfo): { matched: boolean; info: MatchInfo } {
    const pm = parent?.parentMatched ?? [];
    if (pm.length !== 0 && pm.length !== this.patterns.length) throw new Error('wrong number of values in parentMatched');
    const info: MatchInfo = { parentMatched: new Array<boolean>(this.patterns.length).fill(false) };
    let matched = false;
    this.patterns.forEach((pattern, i) => {
      let m = pm.length !== 0 ? pm[i]! : false;
      if (!m) {
        if (pattern.exclusion !== matched) return;
        m = pattern.match(file);
        if (!m && pm.length === 0) {
          const dirs = parentDirs(file);
          if (dirs) for (let j = 0; j < dirs.length && !m; j++) m = pattern.match(dirs.slice(0, j + 1).join('/'));
        }
      }
      info.parentMatched[i] = m;
      if (m) matched = !pattern.exclusion;
    });
    return { matched, info };
  }
}

/** Convenience: whether `file` is excluded by `patterns` (the context root itself never is). */
export function isExcluded(file: string, patterns: readonly string[]): boolean {
  const pm = new PatternMatcher(patterns);
  const f = cleanPath(file);
  if (f === '.') return false;
  return pm.matches(f);
}
