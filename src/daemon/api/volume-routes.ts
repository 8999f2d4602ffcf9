import type { Router } from './router.js';
import { boolQuery, filtersQuery, readJson, sendJson, sendNoContent } from './router.js';
import { badRequest } from '../errors.js';
import type { VolumeService, VolumeCreateOptions } from '../services/volume-service.js';

/** `/volumes`: swagger's VolumeListResponse, VolumeCreateOptions, Volume and VolumePruneResponse shapes. */
export function registerVolumeRoutes(r: Router, volumes: VolumeService): void {
  r.add('GET', '/volumes', (req, res) => {
    sendJson(res, 200, volumes.list(filtersQuery(req.query)));
  });
  r.add('POST', '/volumes/create', async (req, res) => {
    const body = (await readJson(req)) ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('invalid JSON: volume create options must be an object');
    const o = body as VolumeCreateOptions & { ClusterVolumeSpec?: unknown };
    if (o.ClusterVolumeSpec) throw badRequest('cluster volumes are not supported: this node is not a swarm manager');
    sendJson(res, 201, await volumes.create(o));
  });
  r.add('POST', '/volumes/prune', async (req, res) => {
    sendJson(res, 200, await volumes.prune(filtersQuery(req.query)));
  });
  r.add('GET', '/volumes/{name}', (req, res) => {
    sendJson(res, 200, volumes.inspect(req.params.name!));
  });
  r.add('DELETE', '/volumes/{name}', async (req, res) => {
    await volumes.remove(req.params.name!, { force: boolQuery(req.query, 'force') });
    sendNoContent(res);
  });
}
