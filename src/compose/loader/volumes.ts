// Service `volumes` in short syntax ("./src:/app:ro", "data:/var/lib/mysql", "/tmp") to the
// long form compose prints; bind sources stay relative until the project directory is known.
import { ComposeError, type Dict } from '../types.js';

function isBindSource(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || /^[a-zA-Z]:[\\/]/.test(s);
}

export function parseVolumeSpec(spec: string): Dict {
  const parts = spec.split(':');
  if (parts.length > 3 || spec === '') throw new ComposeError(`invalid spec: ${spec}: too many colons`);
  const out: Dict = {};
  if (parts.length === 1) {
    out.type = 'volume';
    out.target = parts[0];
    out.volume = {};
    return out;
  }
  const [source, target, mode = ''] = parts;
  if (!target) throw new ComposeError(`invalid spec: ${spec}: empty section between colons`);
  const bind = isBindSource(source);
  out.type = bind ? 'bind' : 'volume';
  out.source = source;
  out.target = target;
  const opts = mode ? mode.split(',') : [];
  for (const o of opts) {
    if (o === 'ro') out.read_only = true;
    else if (o === 'rw') continue;
    else if (o === 'z' || o === 'Z') (out.bind as Dict | undefined) ? ((out.bind as Dict).selinux = o) : (out.bind = { selinux: o });
    else if (o === 'nocopy') out.volume = { nocopy: true };
    else if (['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'].includes(o)) out.bind = { ...(out.bind as Dict | undefined), propagation: o };
    else if (o === 'cached' || o === 'delegated' || o === 'consistent') out.consistency = o;
    else throw new ComposeError(`invalid spec: ${spec}: unknown option ${JSON.stringify(o)}`);
  }
  if (bind) out.bind = { ...(out.bind as Dict | undefined), create_host_path: true };
  else out.volume ??= {};
  return order(out);
}

function order(v: Dict): Dict {
  const out: Dict = {};
  for (const k of ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs', 'image']) if (v[k] !== undefined) out[k] = v[k];
  for (const k of Object.keys(v)) if (!(k in out)) out[k] = v[k];
  return out;
}

export function canonicalVolumes(list: unknown[]): Dict[] {
  return list.map((v) => (typeof v === 'string' ? parseVolumeSpec(v) : order({ ...(v as Dict) })));
}
