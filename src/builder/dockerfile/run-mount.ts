// `RUN --mount=` specs: CSV `key=value` fields to a typed mount, with BuildKit's defaults
// (bind, read-only except cache/tmpfs) and its validation errors.
import { InstructionError } from './errors.js';
import { withSuggestion } from './suggest.js';

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharing = 'shared' | 'private' | 'locked';

export interface Mount {
  type: MountType;
  from: string;
  source: string;
  target: string;
  readOnly: boolean;
  /** cache id, or secret/ssh id */
  cacheId: string;
  cacheSharing: CacheSharing | '';
  required: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  /** tmpfs size limit in bytes */
  sizeLimit?: number;
  /** secret exposed as this environment variable */
  env?: string;
}

const mountTypes: MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const sharingTypes = ['shared', 'private', 'locked'];
const allKeys = ['type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'mode', 'uid', 'gid',
  'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'size', 'env'];

/** One CSV record (comma-separated, `"` quoting with `""` inside); `what` names it in errors. */
export function parseCsvRecord(s: string, what = 'mounts'): string[] {
  const fail = (col: number, why: string): never => {
    throw new InstructionError(`failed to parse csv ${what}: parse error on line 1, column ${col}: ${why}`);
  };
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) fail(i + 1, 'extraneous or missing " in quoted-field');
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ',') fail(i + 1, 'extraneous or missing " in quoted-field');
    } else {
      while (i < s.length && s[i] !== ',') {
        if (s[i] === '"') fail(i + 1, 'bare " in non-quoted-field');
        field += s[i++];
      }
    }
    fields.push(field);
    if (i >= s.length) return fields;
    i++; // the comma
  }
}

export function parseBool(key: string, v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new InstructionError(`invalid value for ${key}: ${v}`);
}

function parseUint(v: string, base: 8 | 10, what: string): number {
  const ok = base === 8 ? /^[0-7]+$/.test(v) : /^\d+$/.test(v);
  const n = ok ? Number.parseInt(v, base) : NaN;
  if (!ok || n > 0xffffffff) throw new InstructionError(`invalid value ${v} for ${what}`);
  return n;
}

/** docker's units.RAMInBytes: "64m", "1.5g", "512kb", binary multiples. */
export function ramInBytes(v: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  if (!m) throw new Error(`invalid size: '${v}'`);
  const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? '').toLowerCase() as 'k'] ?? 1;
  return Math.trunc(Number.parseFloat(m[1]!) * mult);
}

/**
 * Parses one `--mount` value. `expand` expands variables in values (the builder passes its
 * ARG/ENV expander; pass `(w) => w` for literal values). With `null`, as BuildKit does before
 * variables are known, only the structure is checked: values are skipped, and `from` may not
 * use variables.
 */
export function parseMount(value: string, expand: ((word: string) => string) | null): Mount {
  const m: Mount = { type: 'bind', from: '', source: '', target: '', readOnly: false, cacheId: '', cacheSharing: '', required: false };
  let roAuto = true;

  for (const field of parseCsvRecord(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') { m.readOnly = true; roAuto = false; continue; }
      if (key === 'readwrite' || key === 'rw') { m.readOnly = false; roAuto = false; continue; }
      if (key === 'required') {
        if (m.type === 'secret' || m.type === 'ssh') { m.required = true; continue; }
        throw new InstructionError(`unexpected key '${key}' for mount type '${m.type}'`);
      }
      throw new InstructionError(`invalid field '${field}' must be a key=value pair`);
    }
    let v = field.slice(eq + 1);
    if (expand) {
      v = expand(v);
    } else if (key === 'from') {
      if (/\$./.test(v)) throw new InstructionError(`'${key}' doesn't support variable expansion, define alias stage instead`);
    } else {
      continue;
    }

    switch (key) {
      case 'type': {
        const t = v.toLowerCase();
        if (!(mountTypes as string[]).includes(t)) {
          throw new InstructionError(withSuggestion(`unsupported mount type "${v}"`, v, mountTypes, true));
        }
        m.type = t as MountType;
        break;
      }
      case 'from': m.from = v; break;
      case 'source': case 'src': m.source = v; break;
      case 'target': case 'dst': case 'destination': m.target = v; break;
      case 'readonly': case 'ro': m.readOnly = parseBool(key, v); roAuto = false; break;
      case 'readwrite': case 'rw': m.readOnly = !parseBool(key, v); roAuto = false; break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') throw new InstructionError(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = parseBool(key, v);
        break;
      case 'id': m.cacheId = v; break;
      case 'sharing': {
        const s = v.toLowerCase();
        if (!sharingTypes.includes(s)) throw new InstructionError(`unsupported sharing value "${v}"`);
        m.cacheSharing = s as CacheSharing;
        break;
      }
      case 'mode': m.mode = parseUint(v, 8, 'mode'); break;
      case 'uid': m.uid = parseUint(v, 10, 'uid'); break;
      case 'gid': m.gid = parseUint(v, 10, 'gid'); break;
      case 'size':
        if (m.type !== 'tmpfs') throw new InstructionError(`unexpected key '${key}' for mount type '${m.type}'`);
        try {
          m.sizeLimit = ramInBytes(v);
        } catch {
          throw new InstructionError(`invalid value for ${key}: ${v}`);
        }
        break;
      case 'env': m.env = v; break;
      default:
        throw new InstructionError(withSuggestion(`unexpected key '${key}' in '${field}'`, key, allKeys, true));
    }
  }

  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  for (const k of ['mode', 'uid', 'gid'] as const) {
    if (m[k] !== undefined && !fileInfoAllowed) throw new InstructionError(`${k} not allowed for "${m.type}" type mounts`);
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.cacheSharing !== '' && m.type !== 'cache') throw new InstructionError(`invalid cache sharing set for ${m.type} mount`);
  if (m.type === 'secret') {
    if (m.from !== '') throw new InstructionError('secret mount should not have a from');
    if (m.source === '' && m.target === '' && m.cacheId === '' && m.env === undefined) {
      throw new InstructionError('invalid secret mount. one of source, target required');
    }
    if (m.source !== '' && m.cacheId !== '') throw new InstructionError("both source and id can't be set");
  }
  return m;
}
