// `build:` services through POST /build: the context sent as a tar (minus .dockerignore'd
// files), the Dockerfile, args, target and labels as query parameters, docker's JSON stream read.
import fs from 'node:fs';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import tar from 'tar-stream';
import type { ApiClient } from '../../cli/client.js';
import { readJSONStream } from '../../cli/client.js';
import { readDockerignore, isExcluded } from '../../builder/dockerignore.js';
import { ComposeError, type Dict, type Project } from '../types.js';
import { serviceImage } from './names.js';
import { isRemoteContext } from '../loader/paths.js';

export interface BuildOptions {
  noCache?: boolean;
  pull?: boolean;
  quiet?: boolean;
  /** extra --build-arg values */
  args?: Record<string, string>;
  /** where the build's own output goes */
  out: Writable;
}

const INLINE = '.berth-compose.Dockerfile';

/** the context directory as a tar stream; `inline` adds a generated Dockerfile */
export function packContext(dir: string, dockerfile: string, inline?: string): Readable {
  const pack = tar.pack();
  let patterns: string[] = [];
  const ignoreFile = path.join(dir, '.dockerignore');
  if (fs.existsSync(ignoreFile)) patterns = readDockerignore(fs.readFileSync(ignoreFile, 'utf8'));
  const negations = patterns.some((p) => p.startsWith('!'));
  const keep = new Set([dockerfile, '.dockerignore']);
  const add = (rel: string): void => {
    const abs = path.join(dir, rel);
    const st = fs.lstatSync(abs);
    const excluded = rel !== '' && !keep.has(rel) && isExcluded(rel, patterns);
    if (st.isDirectory()) {
      // an excluded directory can only hold included files when a `!` pattern exists
      if (excluded && !negations) return;
      if (rel !== '' && !excluded) pack.entry({ name: rel + '/', type: 'directory', mode: st.mode & 0o7777, mtime: st.mtime });
      for (const c of fs.readdirSync(abs).sort()) add(rel ? `${rel}/${c}` : c);
      return;
    }
    if (excluded) return;
    if (st.isSymbolicLink()) pack.entry({ name: rel, type: 'symlink', linkname: fs.readlinkSync(abs), mode: st.mode & 0o7777, mtime: st.mtime });
    else if (st.isFile()) pack.entry({ name: rel, mode: st.mode & 0o7777, mtime: st.mtime }, fs.readFileSync(abs));
  };
  try {
    add('');
    if (inline !== undefined) pack.entry({ name: INLINE, mode: 0o644 }, inline);
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
  }
  return Readable.from(pack as AsyncIterable<Buffer>);
}

function record(v: unknown): Record<string, string> {
  if (!v) return {};
  if (Array.isArray(v)) return Object.fromEntries(v.map((x) => String(x).split(/=(.*)/s).slice(0, 2) as [string, string]));
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Dict)) if (x !== null && x !== undefined) out[k] = String(x);
  return out;
}

/** builds one service's image; resolves to the image ID */
export async function buildService(api: ApiClient, p: Project, service: string, o: BuildOptions): Promise<string> {
  const svc = p.services[service];
  const b = svc?.build as Dict | undefined;
  if (!b) throw new ComposeError(`service ${service} has no build section`);
  const context = String(b.context ?? '.');
  // the classic builder API has no way to send more than one context
  if (b.additional_contexts && Object.keys(b.additional_contexts as Dict).length) {
    throw new ComposeError(`service ${service}: build.additional_contexts needs BuildKit, which berth's builder does not provide; copy those files into the context instead`);
  }
  if (isRemoteContext(context)) throw new ComposeError(`service ${service}: remote build contexts are not supported`);
  if (!fs.existsSync(context)) throw new ComposeError(`build context ${context} for service ${service} does not exist: unable to prepare context: path ${JSON.stringify(context)} not found`);
  let dockerfile = String(b.dockerfile ?? 'Dockerfile');
  const inline = typeof b.dockerfile_inline === 'string' ? b.dockerfile_inline : undefined;
  if (inline !== undefined) dockerfile = INLINE;
  else if (path.isAbsolute(dockerfile)) dockerfile = path.relative(context, dockerfile);
  const tags = [serviceImage(p, service), ...((b.tags as string[] | undefined) ?? [])];
  const query = {
    t: tags,
    dockerfile,
    buildargs: JSON.stringify({ ...record(b.args), ...(o.args ?? {}) }),
    labels: JSON.stringify(record(b.labels)),
    target: (b.target as string | undefined) || undefined,
    nocache: o.noCache || b.no_cache === true ? 1 : undefined,
    pull: o.pull || b.pull === true ? 1 : undefined,
    networkmode: (b.network as string | undefined) || undefined,
    shmsize: b.shm_size !== undefined ? String(b.shm_size) : undefined,
    extrahosts: Array.isArray(b.extra_hosts) ? (b.extra_hosts as string[]).join(',') : undefined,
    cachefrom: b.cache_from ? JSON.stringify(b.cache_from) : undefined,
    platform: (svc.platform as string | undefined) || undefined,
    q: o.quiet ? 1 : undefined,
    rm: 1,
  };
  const res = await api.stream('POST', '/build', { query, body: packContext(context, dockerfile, inline) });
  let id = '';
  await readJSONStream(res, (m) => {
    if (typeof m.stream === 'string') {
      const s = m.stream;
      if (!o.quiet) o.out.write(s);
      const hit = /^Successfully built ([0-9a-f]+)/.exec(s);
      if (hit && !id) id = hit[1];
    } else if (m.aux?.ID) id = String(m.aux.ID);
    else if (typeof m.status === 'string' && !o.quiet) o.out.write(`${m.id ? m.id + ': ' : ''}${m.status}\n`);
  });
  return id;
}
