import type { Router } from './router.js';
import { filtersQuery, readJson, sendJson, sendNoContent } from './router.js';
import { ApiError } from '../errors.js';
import type { NetworkService } from '../services/network-service.js';

/** Swarm-scoped (overlay) networks, kept by the swarm's managers rather than this node. */
export interface SwarmNetworkApi {
  create(body: Record<string, unknown>): Promise<{ Id: string; Warning: string }>;
  list(filters: Map<string, string[]>): Promise<unknown[]>;
  find(ref: string): Promise<unknown | undefined>;
  /** What `network inspect` shows (find's object with this node's Containers and the Peers). */
  inspect?(ref: string): Promise<unknown | undefined>;
  /** `network connect` of a swarm network (attachable overlay); false when `ref` names no swarm network. */
  connect?(ref: string, container: string, endpoint?: unknown): Promise<boolean>;
  /** `network disconnect` of a swarm network; false when `ref` names no swarm network. */
  disconnect?(ref: string, container: string): Promise<boolean>;
  remove(ref: string): Promise<boolean>;
}

const isNotFound = (e: unknown) => e instanceof ApiError && e.status === 404;

export function registerNetworkRoutes(r: Router, nets: NetworkService, swarm?: SwarmNetworkApi): void {
  r.add('GET', '/networks', async (req, res) => {
    const filters = filtersQuery(req.query);
    const local = nets.list(filters);
    sendJson(res, 200, swarm ? [...local, ...(await swarm.list(filters))] : local);
  });
  r.add('POST', '/networks/create', async (req, res) => {
    const body = await readJson(req);
    if (swarm && body && typeof body === 'object' && (body as { Driver?: string }).Driver === 'overlay') {
      sendJson(res, 201, await swarm.create(body as Record<string, unknown>));
      return;
    }
    sendJson(res, 201, await nets.create(body));
  });
  r.add('POST', '/networks/prune', async (req, res) => {
    sendJson(res, 200, await nets.prune(filtersQuery(req.query)));
  });
  r.add('GET', '/networks/{id}', async (req, res) => {
    try {
      sendJson(res, 200, nets.inspect(req.params.id!));
    } catch (e) {
      const n = swarm && isNotFound(e) ? await (swarm.inspect ?? swarm.find).call(swarm, req.params.id!) : undefined;
      if (!n) throw e;
      sendJson(res, 200, n);
    }
  });
  r.add('DELETE', '/networks/{id}', async (req, res) => {
    try {
      await nets.remove(req.params.id!);
    } catch (e) {
      if (!(swarm && isNotFound(e) && (await swarm.remove(req.params.id!)))) throw e;
    }
    sendNoContent(res);
  });
  r.add('POST', '/networks/{id}/connect', async (req, res) => {
    const body = ((await readJson(req)) ?? {}) as Parameters<NetworkService['connect']>[1];
    try {
      await nets.connect(req.params.id!, body);
    } catch (e) {
      const b = body as { Container?: string; EndpointConfig?: unknown };
      if (!(swarm?.connect && isNotFound(e) && (await swarm.connect(req.params.id!, String(b.Container ?? ''), b.EndpointConfig)))) throw e;
    }
    sendNoContent(res, 200);
  });
  r.add('POST', '/networks/{id}/disconnect', async (req, res) => {
    const body = ((await readJson(req)) ?? {}) as Parameters<NetworkService['disconnect']>[1];
    try {
      await nets.disconnect(req.params.id!, body);
    } catch (e) {
      if (!(swarm?.disconnect && isNotFound(e) && (await swarm.disconnect(req.params.id!, String(body.Container ?? ''))))) throw e;
    }
    sendNoContent(res, 200);
  });
}
