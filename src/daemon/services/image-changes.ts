import { badRequest } from '../errors.js';
import { parseGoDuration } from '../../common/units.js';

/** Dockerfile instructions `docker import --change` / `docker commit --change` may apply (dockerd's list). */
const VALID = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

/** The container config dockerd writes into an image config, with its field order. */
export function emptyContainerConfig(): Record<string, unknown> {
  return {
    Hostname: '',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: null,
    Cmd: null,
    Image: '',
    Volumes: null,
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
    Labels: null,
  };
}

/** Splits `a=b "c d"=e` into words, honouring quotes and backslashes. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw badRequest('unexpected end of statement while looking for matching ' + quote);
  if (has || cur) out.push(cur);
  return out;
}

function jsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {
    /* shell form */
  }
  return undefined;
}

function pairs(instr: string, rest: string): Array<[string, string]> {
  const ws = words(rest);
  if (ws.length === 0) throw badRequest(`${instr} requires at least one argument`);
  if (!ws[0]!.includes('=')) {
    // Legacy form: `ENV key value with spaces`.
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest.trim());
    if (!m) throw badRequest(`${instr} must have two arguments`);
    return [[m[1]!, m[2]!]];
  }
  return ws.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw badRequest(`${instr} names can not be blank`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/** Applies `changes` (one instruction each) to an image's container config in place. */
export function applyChanges(cfg: Record<string, any>, changes: string[]): void {
  for (const raw of changes) {
    for (const line of raw.split('\n')) {
      const t = line.trim();
      if (!t || t.startsWith('#')) continue;
      const m = /^(\S+)\s*([\s\S]*)$/.exec(t)!;
      const cmd = m[1]!.toLowerCase();
      const rest = m[2]!.trim();
      if (!VALID.has(cmd)) throw badRequest(`${cmd} is not a valid change command`);
      const INSTR = cmd.toUpperCase();
      switch (cmd) {
        case 'cmd':
        case 'entrypoint': {
          const v = jsonArray(rest) ?? ['/bin/sh', '-c', rest];
          cfg[cmd === 'cmd' ? 'Cmd' : 'Entrypoint'] = v;
          break;
        }
        case 'env': {
          const env: string[] = [...(cfg.Env ?? [])];
          for (const [k, v] of pairs(INSTR, rest)) {
            const i = env.findIndex((e) => e.split('=')[0] === k);
            if (i >= 0) env[i] = `${k}=${v}`;
            else env.push(`${k}=${v}`);
          }
          cfg.Env = env;
          break;
        }
        case 'label': {
          const labels: Record<string, string> = { ...(cfg.Labels ?? {}) };
          for (const [k, v] of pairs(INSTR, rest)) labels[k] = v;
          cfg.Labels = labels;
          break;
        }
        case 'expose': {
          const ports: Record<string, object> = { ...(cfg.ExposedPorts ?? {}) };
          for (const p of words(rest)) {
            if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw badRequest(`invalid containerPort: ${p}`);
            ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
          }
          cfg.ExposedPorts = ports;
          break;
        }
        case 'user':
          cfg.User = rest;
          break;
        case 'workdir': {
          const base = (cfg.WorkingDir as string) || '/';
          cfg.WorkingDir = rest.startsWith('/') ? rest : base.replace(/\/$/, '') + '/' + rest;
          break;
        }
        case 'volume': {
          const vols: Record<string, object> = { ...(cfg.Volumes ?? {}) };
          for (const v of jsonArray(rest) ?? words(rest)) {
            if (!v) throw badRequest('VOLUME specified can not be an empty string');
            vols[v] = {};
          }
          cfg.Volumes = vols;
          break;
        }
        case 'onbuild':
          cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
          break;
        case 'stopsignal':
          cfg.StopSignal = rest;
          break;
        case 'healthcheck': {
          const { flags, rest: afterFlags } = healthFlags(rest);
          const hm = /^(\S+)\s*([\s\S]*)$/.exec(afterFlags);
          const kind = hm?.[1]?.toUpperCase();
          if (kind === 'NONE') cfg.Healthcheck = { Test: ['NONE'] };
          else if (kind === 'CMD') {
            const arg = hm![2]!.trim();
            const arr = jsonArray(arg);
            cfg.Healthcheck = { Test: arr ? ['CMD', ...arr] : ['CMD-SHELL', arg], ...flags };
          } else throw badRequest(`Unknown type "${hm?.[1] ?? ''}" in HEALTHCHECK (try CMD)`);
          break;
        }
      }
    }
  }
}

/** HEALTHCHECK's `--interval= --timeout= --start-period= --start-interval= --retries=` (durations in ns, as the image config keeps them). */
function healthFlags(text: string): { flags: Record<string, number>; rest: string } {
  const flags: Record<string, number> = {};
  const keys: Record<string, string> = { interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval' };
  let rest = text;
  for (let m; (m = /^--([A-Za-z-]+)=(\S*)\s*/.exec(rest)); rest = rest.slice(m[0].length)) {
    const [, name, value] = m as unknown as [string, string, string];
    if (name === 'retries') {
      const n = Number(value);
      if (!/^-?\d+$/.test(value)) throw badRequest(`strconv.ParseInt: parsing "${value}": invalid syntax`);
      if (n < 0) throw badRequest(`--retries cannot be negative (${n})`);
      flags.Retries = n;
    } else if (keys[name]) {
      let ms: number;
      try {
        ms = value === '' ? 0 : parseGoDuration(value);
      } catch (e) {
        throw badRequest((e as Error).message);
      }
      if (ms !== 0 && ms < 1) throw badRequest(`${keys[name]} "${value}" cannot be less than 1ms`);
      flags[keys[name]!] = Math.round(ms * 1e6);
    } else {
      throw badRequest(`Unknown flag: ${name}`);
    }
  }
  return { flags, rest };
}
