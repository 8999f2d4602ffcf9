// berth run: create, attach, wait, start, exit with the container's status (docker-cli container/run.go).
import type { Command, Ctx } from '../command.js';
import { containerFlags, runOnlyFlags, buildCreateRequest } from '../containeropts.js';
import { createContainer, runError, startErrorStatus } from '../createcontainer.js';
import { StatusError, type ParsedFlags } from '../flags.js';
import { monitorTtySize, parseDetachKeys, proxySignals, pumpStreams } from '../containerio.js';

export const command: Command = {
  spec: {
    use: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
    short: 'Create and run a new container from an image',
    aliases: ['berth container run', 'berth run'],
    flags: [...containerFlags, ...runOnlyFlags],
    args: { kind: 'min', n: 1 },
    stopAtFirstArg: true,
  },
  run: (ctx, flags, args) => runContainer(ctx, flags, args),
};

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export async function runContainer(ctx: Ctx, flags: ParsedFlags, args: string[]): Promise<number> {
  const detach = flags.bool('detach');
  let req;
  try {
    req = buildCreateRequest(flags, args, ctx.env, detach);
  } catch (e) {
    throw runError(ctx.path, (e as Error).message, (e as StatusError).status ?? 125);
  }
  const cfg = req.body;
  const detachKeys = flags.string('detach-keys');
  if (detachKeys) {
    try {
      parseDetachKeys(detachKeys);
    } catch (e) {
      throw runError(ctx.path, (e as Error).message, 125);
    }
  }
  if (cfg.Tty && cfg.AttachStdin && !ctx.stdin.isTTY) {
    throw new StatusError('the input device is not a TTY', 1);
  }
  let created;
  try {
    created = await createContainer(ctx, req, flags.string('pull') || 'missing', flags.bool('quiet'), flags.string('cidfile'));
  } catch (e) {
    throw runError(ctx.path, (e as Error).message, 125);
  }
  const id = created.Id;
  const cid = encodeURIComponent(id);

  if (detach) {
    try {
      await ctx.client.post(`/containers/${cid}/start`);
    } catch (e) {
      const msg = (e as Error).message;
      throw runError(ctx.path, msg, startErrorStatus(msg));
    }
    ctx.stdout.write(id + '\n');
    return 0;
  }

  const attaching = cfg.AttachStdin || cfg.AttachStdout || cfg.AttachStderr;
  let conn;
  if (attaching) {
    conn = await ctx.client.hijack('POST', `/containers/${cid}/attach`, {
      query: {
        stream: 1,
        stdin: cfg.AttachStdin ? 1 : undefined,
        stdout: cfg.AttachStdout ? 1 : undefined,
        stderr: cfg.AttachStderr ? 1 : undefined,
        detachKeys: detachKeys || undefined,
      },
    });
  }
  const streams = conn
    ? pumpStreams(ctx, conn, { tty: !!cfg.Tty, attachStdin: !!cfg.AttachStdin, detachKeys })
    : undefined;
  // keep a rejection from surfacing before we await it
  streams?.catch(() => {});

  const condition = cfg.HostConfig.AutoRemove ? 'removed' : 'next-exit';
  const waitRes = ctx.client.stream('POST', `/containers/${cid}/wait`, { query: { condition } });
  waitRes.catch(() => {});
  // dockerd sends the wait response headers at once; waiting for them means the wait is
  // registered before start, so a fast exit cannot be missed
  await Promise.race([waitRes.catch(() => undefined), sleep(500)]);

  let stopSignals = () => {};
  try {
    await ctx.client.post(`/containers/${cid}/start`);
  } catch (e) {
    conn?.socket.destroy();
    const msg = (e as Error).message;
    throw runError(ctx.path, msg, startErrorStatus(msg));
  }
  const stopResize = cfg.Tty ? monitorTtySize(ctx, `/containers/${cid}/resize`) : () => {};
  if (!cfg.Tty && flags.bool('sig-proxy')) stopSignals = proxySignals(ctx, id);
  try {
    if (streams) {
      const r = await streams;
      if (r.detached) return 0;
    }
    const res = await waitRes;
    const text = await new Promise<string>((resolve, reject) => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (s += c));
      res.on('end', () => resolve(s));
      res.on('error', reject);
    });
    const status = JSON.parse(text || '{}');
    if (status.Error?.Message) throw new StatusError(status.Error.Message, 125);
    return Number(status.StatusCode ?? 0);
  } finally {
    stopResize();
    stopSignals();
  }
}
