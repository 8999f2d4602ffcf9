import type { ServerResponse } from 'node:http';
import type { ApiRequest, Router } from './router.js';
import { hijack, isHijack } from './server.js';
import { SshSessionError, type SshSessions } from '../services/build/ssh-sessions.js';
import { boolQuery, filtersQuery, sendJson } from './router.js';
import { ApiError, badRequest, errorMessage } from '../errors.js';
import { BuildService, isUserError, type BuildOptions } from '../services/build/build-service.js';
import { BuildError } from '../services/build/stage-runner.js';
import type { BuildCacheService } from '../services/build/build-cache-service.js';
import { SECRETS_HEADER, SSH_HEADER } from '../../common/build-contexts.js';

function jsonQuery<T>(q: URLSearchParams, name: string, dflt: T): T {
  const raw = q.get(name);
  if (!raw) return dflt;
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw badRequest(`invalid ${name} value: ${raw}`);
  }
}

/** Agent sockets by id: paths on this host (X-Berth-Build-Ssh), or those of a session (`sshsession`). */
function sshSockets(req: ApiRequest, sessions: SshSessions): Map<string, string> {
  const out = new Map(Object.entries(jsonHeader<Record<string, string>>(req, SSH_HEADER)));
  const sid = req.query.get('sshsession');
  if (!sid) return out;
  try {
    for (const [id, p] of sessions.sockets(sid)) out.set(id, p);
  } catch (e) {
    throw badRequest(errorMessage(e));
  }
  return out;
}

function buildOptions(req: ApiRequest, sessions: SshSessions): BuildOptions {
  const q = req.query;
  const remote = q.get('remote') ?? '';
  if (remote === 'client-session') throw badRequest('BuildKit session contexts (remote=client-session) are not supported by berthd: it speaks the classic builder API (DOCKER_BUILDKIT=0)');
  const version = q.get('version');
  if (version === '2') throw badRequest('BuildKit (version=2) is not supported by berthd: it speaks the classic builder API (DOCKER_BUILDKIT=0)');
  const platform = q.get('platform') ?? '';
  return {
    tags: q.getAll('t'),
    dockerfile: q.get('dockerfile') ?? '',
    buildArgs: jsonQuery<Record<string, string | null>>(q, 'buildargs', {}),
    labels: jsonQuery<Record<string, string>>(q, 'labels', {}),
    target: q.get('target') ?? '',
    noCache: boolQuery(q, 'nocache'),
    quiet: boolQuery(q, 'q'),
    pull: boolQuery(q, 'pull'),
    networkMode: q.get('networkmode') ?? '',
    platform,
    structured: boolQuery(q, 'berthprogress'),
    squash: boolQuery(q, 'squash'),
    cacheFrom: jsonQuery<string[]>(q, 'cachefrom', []),
    secrets: secretsHeader(req),
    sshSockets: sshSockets(req, sessions),
    remote: remote || undefined,
    namedContexts: jsonQuery<Record<string, string>>(q, 'buildcontexts', {}),
    // dockerd's defaults: rm=1 unless sent, forcerm=0
    rm: boolQuery(q, 'rm', true),
    forceRm: boolQuery(q, 'forcerm'),
  };
}

/** A header holding base64 of a JSON object (berth's extensions of POST /build). */
function jsonHeader<T extends object>(req: ApiRequest, name: string): T {
  const h = req.raw.headers[name];
  const raw = Array.isArray(h) ? h[0] : h;
  if (!raw) return {} as T;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as T;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch {
    throw badRequest(`invalid ${name} header`);
  }
}

/** `X-Berth-Build-Secrets`: base64 of a JSON object id → base64 content (berth build --secret). */
function secretsHeader(req: ApiRequest): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const h = req.raw.headers[SECRETS_HEADER];
  const raw = Array.isArray(h) ? h[0] : h;
  if (!raw) return out;
  try {
    const obj = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Record<string, string>;
    for (const [k, v] of Object.entries(obj)) out.set(k, Buffer.from(v, 'base64'));
  } catch {
    throw badRequest('invalid X-Berth-Build-Secrets header');
  }
  return out;
}

/** JSON message stream whose head goes out with the first message, so early failures are HTTP errors as with dockerd. */
class LazyStream {
  started = false;
  constructor(private readonly res: ServerResponse) {}
  write = (msg: object): void => {
    if (!this.started) {
      this.res.writeHead(200, { 'Content-Type': 'application/json' });
      this.started = true;
    }
    this.res.write(JSON.stringify(msg) + '\n');
  };
}

export function registerBuildRoutes(router: Router, builds: BuildService, cache: BuildCacheService, sessions: SshSessions): void {
  router.add('POST', '/build', async (req, res) => {
    const opts = buildOptions(req, sessions);
    const stream = new LazyStream(res);
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    try {
      await builds.build(req.raw, opts, stream.write, gone.signal);
    } catch (e) {
      if (!stream.started) {
        if (e instanceof ApiError) throw e;
        throw isUserError(e) ? badRequest(errorMessage(e)) : e;
      }
      const message = errorMessage(e);
      const code = e instanceof BuildError ? e.code : 1;
      stream.write({ errorDetail: { code, message }, error: message });
    }
    res.end();
  });

  router.add('POST', '/build/prune', async (req, res) => {
    const all = boolQuery(req.query, 'all');
    sendJson(res, 200, await cache.prune({ all, filters: filtersQuery(req.query) }));
  });

  // berth's extension for `build --ssh` against a remote daemon (see ssh-sessions.ts): the
  // control connection answers {"ready":true} once the session's sockets listen, then carries
  // {"open":"<conn>","id":"<id>"} lines, each answered by the client on the route below.
  router.add('POST', '/build/ssh-session', async (req, res) => {
    if (!isHijack(req)) throw badRequest('POST /build/ssh-session needs an upgraded connection (Connection: Upgrade, Upgrade: tcp)');
    const sid = req.query.get('session') ?? '';
    const ids = (req.query.get('ids') ?? '').split(',').filter(Boolean);
    const conn = hijack(req, res, 'application/x-ndjson');
    try {
      await sessions.open(sid, ids, conn);
      conn.write(JSON.stringify({ ready: true }) + '\n');
    } catch (e) {
      if (!(e instanceof SshSessionError)) throw e;
      conn.end(JSON.stringify({ error: e.message }) + '\n');
    }
  });

  router.add('POST', '/build/ssh-session/{id}/{conn}', (req, res) => {
    if (!isHijack(req)) throw badRequest('this endpoint needs an upgraded connection (Connection: Upgrade, Upgrade: tcp)');
    const conn = hijack(req, res);
    try {
      sessions.answer(req.params.id!, req.params.conn!, conn);
    } catch (e) {
      if (!(e instanceof SshSessionError)) throw e;
      conn.destroy();
    }
  });

  router.add('POST', '/build/cancel', (_req, res) => {
    res.writeHead(200);
    res.end();
  });
}
