import type { Router } from './router.js';
import { filtersQuery, sendJson } from './router.js';
import type { PruneService } from '../services/prune-service.js';

export function registerPruneRoutes(r: Router, prune: PruneService): void {
  r.add('POST', '/containers/prune', async (req, res) => {
    sendJson(res, 200, await prune.pruneContainers(filtersQuery(req.query)));
  });
  r.add('POST', '/images/prune', async (req, res) => {
    sendJson(res, 200, await prune.pruneImages(filtersQuery(req.query)));
  });
  r.add('GET', '/system/df', async (_req, res) => {
    sendJson(res, 200, await prune.df());
  });
}
