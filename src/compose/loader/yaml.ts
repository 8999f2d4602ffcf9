// Reads one compose file: YAML 1.2 with merge keys, plus compose's `!reset` and `!override`
// tags, which survive parsing as marker objects so the merge step can honour them.
import type { Node, ScalarTag } from 'yaml';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ComposeError, type Dict } from '../types.js';
import { cacheDir, readCache, writeCache } from './cache.js';

// Loading the yaml package costs a good part of a compose command's time, so it is only loaded
// for files not parsed before: the parse of a file's exact text is cached as JSON.
const requireHere = createRequire(import.meta.url);
const YAML_CACHE_VERSION = '1';

/** `!reset`: the attribute is removed from what earlier files set */
export const RESET = Symbol.for('berth.compose.reset');
/** `!override`: the value replaces what earlier files set instead of merging */
export class Override {
  constructor(public readonly value: unknown) {}
}

// Tagged nodes are swapped for sentinel shapes before toJS, because toJS drops tags.
const RESET_MARK = '\u0000berth:reset';
const OVERRIDE_MARK = '\u0000berth:override';

// go-yaml (compose's parser) reads `0440` as octal, as file modes in compose files expect
const GO_OCTAL: ScalarTag = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  test: /^0[0-7]+$/,
  resolve: (s: string) => parseInt(s, 8),
  identify: () => false,
};

function parseWithYaml(text: string): unknown {
  const { parseDocument, visit, Scalar, YAMLMap } = requireHere('yaml') as typeof import('yaml');
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true, customTags: (tags) => [GO_OCTAL, ...tags] });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    // prettyErrors appends position and a source excerpt; compose prints one line
    const msg = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ComposeError(`yaml: ${line ? `line ${line}: ` : ''}${msg}`);
  }
  visit(doc, {
    Node(_key, node) {
      const tag = (node as { tag?: string }).tag;
      if (tag === '!reset') return new Scalar(RESET_MARK);
      if (tag === '!override') {
        (node as { tag?: string }).tag = undefined;
        const wrap = new YAMLMap();
        wrap.set(OVERRIDE_MARK, node as Node);
        return wrap;
      }
      return undefined;
    },
  });
  return doc.toJS({ maxAliasCount: -1 }) as unknown;
}

/** plain JSON data only (no NaN/Infinity, binary, dates…), so that JSON gives it back unchanged */
function jsonSafe(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (Array.isArray(v)) return v.every(jsonSafe);
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.entries(v as Dict).every(([k, x]) => k !== '__proto__' && jsonSafe(x));
  return false;
}

export function parseComposeYaml(text: string): Dict {
  const dir = cacheDir();
  const file = dir ? join(dir, 'compose-yaml', createHash('sha256').update(YAML_CACHE_VERSION + '\0' + text).digest('hex') + '.json') : undefined;
  const cached = readCache(file);
  let js: unknown;
  if (cached !== undefined) {
    try {
      js = JSON.parse(cached);
    } catch {
      js = undefined;
    }
  }
  if (js === undefined) {
    js = parseWithYaml(text);
    if (jsonSafe(js)) writeCache(file, JSON.stringify(js), 500);
  }
  const out = unmark(js);
  if (out === null || out === undefined) return {};
  if (typeof out !== 'object' || Array.isArray(out)) {
    throw new ComposeError(`Top-level object must be a mapping`);
  }
  return out as Dict;
}

function unmark(v: unknown): unknown {
  if (v === RESET_MARK) return RESET;
  if (Array.isArray(v)) return v.map(unmark);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === OVERRIDE_MARK) return new Override(unmark((v as Dict)[OVERRIDE_MARK]));
    const out: Dict = {};
    for (const k of keys) out[k] = unmark((v as Dict)[k]);
    return out;
  }
  return v;
}
