import type { ServerResponse } from 'node:http';
import type { Router } from './router.js';
import { boolQuery, filtersQuery, sendJson } from './router.js';
import { badRequest, errorMessage } from '../errors.js';
import type { ImageService } from '../services/image-service.js';
import { handlePull } from './registry-routes.js';

/** Starts a JSON message stream (the jsonmessage protocol the docker CLI renders). */
function startStream(res: ServerResponse): (msg: object) => void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  return (msg) => res.write(JSON.stringify(msg) + '\n');
}

/** Once the stream has begun, errors travel inside it, as dockerd sends them. */
function streamError(write: (msg: object) => void, err: unknown): void {
  const message = errorMessage(err);
  write({ errorDetail: { message }, error: message });
}

export function registerImageRoutes(router: Router, images: ImageService): void {
  router.add('GET', '/images/json', async (req, res) => {
    const list = await images.list({ all: boolQuery(req.query, 'all'), filters: filtersQuery(req.query) });
    sendJson(res, 200, list.map((r) => images.summary(r)));
  });

  router.add('POST', '/images/create', async (req, res) => {
    const q = req.query;
    const fromSrc = q.get('fromSrc');
    const fromImage = q.get('fromImage');
    if (fromSrc) {
      if (fromSrc !== '-') throw badRequest('importing from a URL is not supported yet; use fromSrc=-');
      const write = startStream(res);
      try {
        const rec = await images.importTar(req.raw, {
          repo: q.get('repo') ?? undefined,
          tag: q.get('tag') ?? undefined,
          changes: q.getAll('changes'),
          message: q.get('message') ?? undefined,
          platform: q.get('platform') ?? undefined,
          source: fromSrc,
        });
        write({ status: rec.id });
      } catch (e) {
        streamError(write, e);
      }
      res.end();
      return;
    }
    if (fromImage) return handlePull(images, req, res);
    throw badRequest('fromImage or fromSrc is required');
  });

  router.add('POST', '/images/load', async (req, res) => {
    const quiet = boolQuery(req.query, 'quiet');
    const write = startStream(res);
    try {
      await images.load(req.raw, (line) => write(line));
    } catch (e) {
      streamError(write, e);
    }
    void quiet; // we send no per-layer progress, so quiet and verbose loads look the same
    res.end();
  });

  const save = async (names: string[], res: ServerResponse) => {
    // Resolve before answering so a bad name is a clean 404, not a torn tar.
    for (const n of names) await images.resolve(n);
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    try {
      await images.save(names, res);
    } catch (e) {
      res.destroy(e as Error);
    }
  };
  router.add('GET', '/images/get', async (req, res) => save(req.query.getAll('names'), res));
  router.add('GET', '/images/{name*}/get', async (req, res) => save([req.params.name!], res));

  router.add('GET', '/images/{name*}/json', async (req, res) => {
    sendJson(res, 200, await images.inspect(req.params.name!));
  });

  router.add('GET', '/images/{name*}/history', async (req, res) => {
    sendJson(res, 200, await images.history(req.params.name!));
  });

  router.add('POST', '/images/{name*}/tag', async (req, res) => {
    const repo = req.query.get('repo');
    if (!repo) throw badRequest('repository name must have at least one component');
    await images.tag(req.params.name!, repo, req.query.get('tag') ?? '');
    res.writeHead(201);
    res.end();
  });

  router.add('DELETE', '/images/{name*}', async (req, res) => {
    const out = await images.remove(req.params.name!, { force: boolQuery(req.query, 'force'), noprune: boolQuery(req.query, 'noprune') });
    sendJson(res, 200, out);
  });
}

