import type { Router } from './router.js';
import { filtersQuery, readJson, sendJson, sendNoContent } from './router.js';
import type { NetworkService } from '../services/network-service.js';

export function registerNetworkRoutes(r: Router, nets: NetworkService): void {
  r.add('GET', '/networks', (req, res) => {
    sendJson(res, 200, nets.list(filtersQuery(req.query)));
  });
  r.add('POST', '/networks/create', async (req, res) => {
    sendJson(res, 201, await nets.create(await readJson(req)));
  });
  r.add('POST', '/networks/prune', async (req, res) => {
    sendJson(res, 200, await nets.prune(filtersQuery(req.query)));
  });
  r.add('GET', '/networks/{id}', (req, res) => {
    sendJson(res, 200, nets.inspect(req.params.id!));
  });
  r.add('DELETE', '/networks/{id}', async (req, res) => {
    await nets.remove(req.params.id!);
    sendNoContent(res);
  });
  r.add('POST', '/networks/{id}/connect', async (req, res) => {
    await nets.connect(req.params.id!, ((await readJson(req)) ?? {}) as Parameters<NetworkService['connect']>[1]);
    sendNoContent(res, 200);
  });
  r.add('POST', '/networks/{id}/disconnect', async (req, res) => {
    await nets.disconnect(req.params.id!, ((await readJson(req)) ?? {}) as Parameters<NetworkService['disconnect']>[1]);
    sendNoContent(res, 200);
  });
}
