// berth start: batch start, or attach to one container (-a/-i) and exit with its status.
import type { Command } from '../command.js';
import { runBatch, enc } from '../batch.js';
import { StatusError } from '../flags.js';
import { monitorTtySize, proxySignals, pumpStreams } from '../containerio.js';
import { startErrorStatus } from '../createcontainer.js';

export const command: Command = {
  spec: {
    use: 'start [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Start one or more stopped containers',
    aliases: ['berth container start', 'berth start'],
    flags: [
      { name: 'attach', short: 'a', type: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
      { name: 'checkpoint', type: 'string', usage: 'Restore from this checkpoint' },
      { name: 'checkpoint-dir', type: 'string', usage: 'Use a custom checkpoint storage directory' },
      { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
      { name: 'interactive', short: 'i', type: 'bool', usage: "Attach container's STDIN" },
    ],
    args: { kind: 'min', n: 1 },
  },
  async run(ctx, flags, args) {
    const attach = flags.bool('attach');
    const interactive = flags.bool('interactive');
    if (!attach && !interactive) {
      return runBatch(ctx, args, async (name) => {
        await ctx.client.post(`/containers/${enc(name)}/start`);
        return name;
      });
    }
    if (args.length > 1) throw new StatusError('you cannot start and attach multiple containers at once', 1);
    const info = await ctx.client.get(`/containers/${enc(args[0])}/json`);
    const id: string = info.Id;
    const tty = !!info.Config?.Tty;
    const withStdin = interactive && !!info.Config?.OpenStdin;
    const detachKeys = flags.string('detach-keys');
    const conn = await ctx.client.hijack('POST', `/containers/${enc(id)}/attach`, {
      query: { stream: 1, stdin: withStdin ? 1 : undefined, stdout: 1, stderr: 1, detachKeys: detachKeys || undefined },
    });
    const streams = pumpStreams(ctx, conn, { tty, attachStdin: withStdin, detachKeys });
    streams.catch(() => {});
    const waitRes = ctx.client.post(`/containers/${enc(id)}/wait`, { condition: 'next-exit' });
    waitRes.catch(() => {});
    try {
      await ctx.client.post(`/containers/${enc(id)}/start`);
    } catch (e) {
      conn.socket.destroy();
      const msg = (e as Error).message;
      throw new StatusError(msg, startErrorStatus(msg));
    }
    const stopResize = tty ? monitorTtySize(ctx, `/containers/${enc(id)}/resize`) : () => {};
    const stopSignals = !tty ? proxySignals(ctx, id) : () => {};
    try {
      const r = await streams;
      if (r.detached) return 0;
      const status = await waitRes;
      return Number(status?.StatusCode ?? 0);
    } finally {
      stopResize();
      stopSignals();
    }
  },
};
