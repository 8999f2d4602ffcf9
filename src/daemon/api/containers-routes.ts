import type { Router } from './router.js';
import { boolQuery, filtersQuery, intQuery, readJson, sendJson, sendNoContent } from './router.js';
import { hijack } from './server.js';
import { badRequest } from '../errors.js';
import type { ContainerService } from '../services/container-service.js';
import { timeToSeconds } from '../system/log-reader.js';
import { validateCreateBody } from './validate-body.js';

/** `t` / `timeout` in seconds; -1 waits forever. */
function stopTimeout(q: URLSearchParams): number | undefined {
  return intQuery(q, 't') ?? intQuery(q, 'timeout');
}

/** since/until as dockerd takes them: unix seconds with optional fraction, or RFC3339. */
function timeQuery(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '' || v === '0') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const s = timeToSeconds(v);
  if (Number.isNaN(s)) throw badRequest(`invalid value for ${name}: ${v}`);
  return s;
}

/** `prepareCreate`: a create body rewritten before the container service sees it (a swarm network named by the container). */
export function registerContainerRoutes(r: Router, containers: ContainerService, prepareCreate: (body: unknown) => unknown | Promise<unknown> = (b) => b): void {
  r.add('POST', '/containers/create', async (req, res) => {
    const body = await readJson(req);
    validateCreateBody(body);
    sendJson(res, 201, await containers.create(await prepareCreate(body), req.query.get('name')));
  });

  r.add('GET', '/containers/json', async (req, res) => {
    sendJson(
      res,
      200,
      await containers.list({
        all: boolQuery(req.query, 'all'),
        limit: intQuery(req.query, 'limit'),
        size: boolQuery(req.query, 'size'),
        filters: filtersQuery(req.query),
      }),
    );
  });

  r.add('GET', '/containers/{id}/json', async (req, res) => {
    sendJson(res, 200, await containers.inspect(req.params.id!, boolQuery(req.query, 'size')));
  });

  r.add('POST', '/containers/{id}/start', async (req, res) => {
    await containers.start(req.params.id!);
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/stop', async (req, res) => {
    await containers.stop(req.params.id!, { timeout: stopTimeout(req.query), signal: req.query.get('signal') ?? undefined });
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/restart', async (req, res) => {
    await containers.restartContainer(req.params.id!, { timeout: stopTimeout(req.query), signal: req.query.get('signal') ?? undefined });
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/kill', async (req, res) => {
    await containers.kill(req.params.id!, req.query.get('signal') ?? undefined);
    sendNoContent(res);
  });

  r.add('DELETE', '/containers/{id}', async (req, res) => {
    await containers.remove(req.params.id!, { force: boolQuery(req.query, 'force'), volumes: boolQuery(req.query, 'v') });
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/wait', async (req, res) => {
    const pending = containers.wait(req.params.id!, req.query.get('condition') ?? 'not-running');
    // Headers go out at once so the client knows the wait is registered.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const result = await pending;
    res.end(JSON.stringify(result) + '\n');
  });

  r.add('GET', '/containers/{id}/logs', async (req, res) => {
    const q = req.query;
    const id = req.params.id!;
    const tty = containers.logsTty(id);
    const tailRaw = q.get('tail');
    const tail = tailRaw === null || tailRaw === '' || tailRaw === 'all' ? undefined : Number(tailRaw);
    if (tail !== undefined && !Number.isInteger(tail)) throw badRequest(`invalid value for tail: ${tailRaw}`);
    const opts = {
      stdout: boolQuery(q, 'stdout'),
      stderr: boolQuery(q, 'stderr'),
      follow: boolQuery(q, 'follow'),
      timestamps: boolQuery(q, 'timestamps'),
      since: timeQuery(q, 'since'),
      until: timeQuery(q, 'until'),
      tail: tail !== undefined && tail < 0 ? undefined : tail,
    };
    if (!opts.stdout && !opts.stderr) throw badRequest('Bad parameters: you must choose at least one stream');
    containers.assertLogsReadable(id);
    res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    res.flushHeaders();
    await containers.logs(id, res, opts);
    res.end();
  });

  r.add('POST', '/containers/{id}/attach', async (req, res) => {
    const q = req.query;
    containers.get(req.params.id!); // 404 before hijacking
    const conn = hijack(req, res, containers.logsTty(req.params.id!) ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    await containers.attach(req.params.id!, conn, {
      stdin: boolQuery(q, 'stdin'),
      stdout: boolQuery(q, 'stdout'),
      stderr: boolQuery(q, 'stderr'),
      stream: boolQuery(q, 'stream'),
      logs: boolQuery(q, 'logs'),
      detachKeys: q.get('detachKeys') ?? undefined,
    });
  });

  r.add('POST', '/containers/{id}/resize', async (req, res) => {
    const h = intQuery(req.query, 'h') ?? 0;
    const w = intQuery(req.query, 'w') ?? 0;
    await containers.resize(req.params.id!, h, w);
    sendNoContent(res, 200);
  });

  r.add('POST', '/containers/{id}/rename', async (req, res) => {
    await containers.rename(req.params.id!, req.query.get('name') ?? '');
    sendNoContent(res);
  });

  r.add('GET', '/containers/{id}/top', async (req, res) => {
    sendJson(res, 200, await containers.top(req.params.id!, req.query.get('ps_args') ?? ''));
  });

  r.add('POST', '/containers/{id}/pause', async (req, res) => {
    await containers.pause(req.params.id!);
    sendNoContent(res);
  });

  r.add('POST', '/containers/{id}/unpause', async (req, res) => {
    await containers.unpause(req.params.id!);
    sendNoContent(res);
  });
}
