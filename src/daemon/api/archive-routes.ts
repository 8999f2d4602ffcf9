// HEAD/GET/PUT /containers/{id}/archive: docker cp's endpoints.
import type { Router } from './router.js';
import { boolQuery } from './router.js';
import { badRequest } from '../errors.js';
import type { ArchiveService, PathStat } from '../services/archive-service.js';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function statHeader(st: PathStat): string {
  return Buffer.from(JSON.stringify(st)).toString('base64');
}

function pathQuery(q: URLSearchParams): string {
  const p = q.get('path');
  if (p === null || p === '') throw badRequest('path must not be empty');
  return p;
}

export function registerArchiveRoutes(r: Router, archive: ArchiveService): void {
  // The router serves HEAD through the GET route; the method tells them apart.
  r.add('GET', '/containers/{id}/archive', async (req, res) => {
    const p = pathQuery(req.query);
    if (req.method === 'HEAD') {
      const st = await archive.stat(req.params.id!, p);
      res.writeHead(200, { [STAT_HEADER]: statHeader(st), 'Content-Type': 'application/json' });
      res.end();
      return;
    }
    await archive.archive(req.params.id!, p, (st) => {
      res.writeHead(200, { [STAT_HEADER]: statHeader(st), 'Content-Type': 'application/x-tar' });
      return res;
    });
  });

  r.add('PUT', '/containers/{id}/archive', async (req, res) => {
    const p = pathQuery(req.query);
    await archive.extract(req.params.id!, p, req.raw, {
      noOverwriteDirNonDir: boolQuery(req.query, 'noOverwriteDirNonDir'),
      copyUIDGID: boolQuery(req.query, 'copyUIDGID'),
    });
    res.writeHead(200);
    res.end();
  });
}
