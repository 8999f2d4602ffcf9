import type { Router } from './router.js';
import { boolQuery, readJson, sendJson } from './router.js';
import { badRequest, errorMessage } from '../errors.js';
import type { ContainerOps } from '../services/container-ops.js';
import type { StatsService } from '../services/stats-service.js';
import type { UpdateBody, UpdateService } from '../services/update-service.js';

export function registerContainerOpsRoutes(r: Router, ops: ContainerOps, stats: StatsService, updates: UpdateService): void {
  r.add('POST', '/containers/{id}/update', async (req, res) => {
    const body = await readJson(req);
    if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) throw badRequest('invalid JSON body');
    sendJson(res, 200, await updates.update(req.params.id!, (body ?? {}) as UpdateBody));
  });

  r.add('GET', '/containers/{id}/stats', async (req, res) => {
    const q = req.query;
    const stream = boolQuery(q, 'stream', true);
    const oneShot = boolQuery(q, 'one-shot');
    if (oneShot && stream) throw badRequest('cannot have stream=true and one-shot=true');
    const id = stats.resolve(req.params.id!);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    await stats.stats(id, { stream, oneShot }, res);
    res.end();
  });

  r.add('GET', '/containers/{id}/changes', async (req, res) => {
    const list = await ops.changes(req.params.id!);
    sendJson(res, 200, list);
  });

  r.add('POST', '/commit', async (req, res) => {
    const q = req.query;
    const body = await readJson(req).catch(() => undefined);
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) throw badRequest('invalid JSON body');
    sendJson(
      res,
      201,
      await ops.commit({
        container: q.get('container') ?? '',
        repo: q.get('repo') ?? undefined,
        tag: q.get('tag') ?? undefined,
        comment: q.get('comment') ?? undefined,
        author: q.get('author') ?? undefined,
        pause: boolQuery(q, 'pause', true),
        changes: q.getAll('changes'),
        config: (body ?? undefined) as Record<string, unknown> | undefined,
      }),
    );
  });

  r.add('GET', '/containers/{id}/export', async (req, res) => {
    try {
      await ops.export(req.params.id!, res, () => {
        res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        res.flushHeaders();
      });
    } catch (e) {
      // Headers may be out already: then the client sees a cut stream, as with dockerd.
      if (!res.headersSent) throw e;
      res.destroy(new Error(errorMessage(e)));
      return;
    }
    res.end();
  });
}
