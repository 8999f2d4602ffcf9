import type { Router } from './router.js';
import { boolQuery, intQuery, readJson, sendJson } from './router.js';
import { badRequest } from '../errors.js';
import type { ClusterService } from '../services/swarm/cluster-service.js';

function object(body: unknown): Record<string, any> {
  if (body === undefined) return {};
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('invalid JSON: the request body must be an object');
  return body as Record<string, any>;
}

/** `/swarm`: init, join, leave, update, inspect (swagger's Swarm, SwarmInitRequest, SwarmJoinRequest). */
export function registerSwarmRoutes(r: Router, cluster: ClusterService): void {
  r.add('GET', '/swarm', async (_req, res) => {
    sendJson(res, 200, await cluster.inspect());
  });
  r.add('POST', '/swarm/init', async (req, res) => {
    sendJson(res, 200, await cluster.init(object(await readJson(req))));
  });
  r.add('POST', '/swarm/join', async (req, res) => {
    await cluster.join(object(await readJson(req)));
    res.writeHead(200);
    res.end();
  });
  r.add('POST', '/swarm/leave', async (req, res) => {
    await cluster.leave(boolQuery(req.query, 'force'));
    res.writeHead(200);
    res.end();
  });
  r.add('POST', '/swarm/update', async (req, res) => {
    await cluster.update(intQuery(req.query, 'version'), object(await readJson(req)), {
      worker: boolQuery(req.query, 'rotateWorkerToken'),
      manager: boolQuery(req.query, 'rotateManagerToken'),
      unlockKey: boolQuery(req.query, 'rotateManagerUnlockKey'),
    });
    res.writeHead(200);
    res.end();
  });
  r.add('GET', '/swarm/unlockkey', async (_req, res) => {
    sendJson(res, 200, { UnlockKey: await cluster.unlockKey() });
  });
  r.add('POST', '/swarm/unlock', async (req, res) => {
    const body = object(await readJson(req));
    await cluster.unlock(String(body.UnlockKey ?? ''));
    res.writeHead(200);
    res.end();
  });
}
