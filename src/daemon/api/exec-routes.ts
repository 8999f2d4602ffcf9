import type { Router } from './router.js';
import { intQuery, readJson, sendJson, sendNoContent } from './router.js';
import { hijack } from './server.js';
import type { ExecService } from '../services/exec-service.js';

export function registerExecRoutes(r: Router, execs: ExecService): void {
  r.add('POST', '/containers/{id}/exec', async (req, res) => {
    sendJson(res, 201, execs.create(req.params.id!, await readJson(req)));
  });

  r.add('POST', '/exec/{id}/start', async (req, res) => {
    const body = ((await readJson(req)) ?? {}) as { Detach?: boolean; Tty?: boolean };
    const s = execs.get(req.params.id!);
    if (body.Detach) {
      await execs.start(s.id, { detach: true, tty: body.Tty });
      sendNoContent(res, 200);
      return;
    }
    const conn = hijack(req, res, body.Tty ?? s.config.Tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    await execs.start(s.id, { detach: false, tty: body.Tty }, conn);
  });

  r.add('POST', '/exec/{id}/resize', async (req, res) => {
    await execs.resize(req.params.id!, intQuery(req.query, 'h') ?? 0, intQuery(req.query, 'w') ?? 0);
    sendNoContent(res, 200);
  });

  r.add('GET', '/exec/{id}/json', (req, res) => {
    sendJson(res, 200, execs.inspect(req.params.id!));
  });
}
