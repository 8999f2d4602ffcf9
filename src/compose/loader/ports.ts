// Service `ports` in short syntax ("127.0.0.1:8080:80/udp", ranges) to compose's long form.
import { ComposeError, type Dict } from '../types.js';

export interface PortConfig extends Dict {
  mode: string;
  host_ip?: string;
  target: number;
  published?: string;
  protocol: string;
}

function range(s: string, what: string, raw: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new ComposeError(`Invalid ${what}: ${raw}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (b < a) throw new ComposeError(`Invalid range specified for port: ${raw}`);
  return [a, b];
}

export function parsePortSpec(raw: string | number): PortConfig[] {
  const text = String(raw);
  let [spec, protocol = 'tcp'] = text.split('/');
  if (text.split('/').length > 2 || protocol === '') throw new ComposeError(`Invalid proto: ${text}`);
  let hostIp: string | undefined;
  let published: string | undefined;
  let target: string;
  // IPv6 host addresses are written in brackets
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(spec);
  let parts: string[];
  if (v6) {
    hostIp = v6[1];
    parts = v6[2].split(':');
    if (parts.length !== 2) throw new ComposeError(`Invalid hostPort: ${text}`);
    [published, target] = parts;
  } else {
    parts = spec.split(':');
    if (parts.length === 1) target = parts[0];
    else if (parts.length === 2) [published, target] = parts;
    else if (parts.length === 3) [hostIp, published, target] = parts;
    else throw new ComposeError(`Invalid hostPort: ${text}`);
  }
  const [t0, t1] = range(target, 'containerPort', target);
  let pub: [number, number] | undefined;
  if (published) pub = range(published, 'hostPort', published);
  if (pub && pub[1] !== pub[0] && pub[1] - pub[0] !== t1 - t0 && t1 !== t0) {
    throw new ComposeError(`Invalid ranges specified for container and host Ports: ${target} and ${published}`);
  }
  const out: PortConfig[] = [];
  for (let t = t0; t <= t1; t++) {
    const p: PortConfig = { mode: 'ingress', target: t, protocol };
    if (hostIp) p.host_ip = hostIp;
    if (pub) {
      // a host range with a single container port stays a range, as docker does
      p.published = t1 === t0 && pub[1] !== pub[0] ? `${pub[0]}-${pub[1]}` : String(pub[0] + (t - t0));
    }
    out.push(orderPort(p));
  }
  return out;
}

function orderPort(p: Dict): PortConfig {
  const out: Dict = {};
  for (const k of ['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol']) if (p[k] !== undefined) out[k] = p[k];
  for (const k of Object.keys(p)) if (!(k in out)) out[k] = p[k];
  return out as PortConfig;
}

export function canonicalPorts(list: unknown[]): PortConfig[] {
  return list.flatMap((p) => {
    if (typeof p === 'string' || typeof p === 'number') return parsePortSpec(p);
    const d = { ...(p as Dict) };
    if (d.published !== undefined) d.published = String(d.published);
    if (typeof d.target === 'string') d.target = Number(d.target);
    d.mode ??= 'ingress';
    d.protocol ??= 'tcp';
    return [orderPort(d)];
  });
}
