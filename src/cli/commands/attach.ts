// berth attach: stream a running container, exit with its status when it stops.
import type { Command } from '../command.js';
import { enc } from '../batch.js';
import { StatusError } from '../flags.js';
import { monitorTtySize, parseDetachKeys, proxySignals, pumpStreams } from '../containerio.js';

export const command: Command = {
  spec: {
    use: 'attach [OPTIONS] CONTAINER',
    short: 'Attach local standard input, output, and error streams to a running container',
    aliases: ['berth container attach', 'berth attach'],
    flags: [
      { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
      { name: 'no-stdin', type: 'bool', usage: 'Do not attach STDIN' },
      { name: 'sig-proxy', type: 'bool', usage: 'Proxy all received signals to the process', def: 'true' },
    ],
    args: { kind: 'exact', n: 1 },
  },
  async run(ctx, flags, args) {
    const info = await ctx.client.get(`/containers/${enc(args[0])}/json`);
    if (!info.State?.Running) throw new StatusError('You cannot attach to a stopped container, start it first', 1);
    if (info.State?.Paused) throw new StatusError('You cannot attach to a paused container, unpause it first', 1);
    if (info.State?.Restarting) throw new StatusError('You cannot attach to a restarting container, wait until it is running', 1);
    const id: string = info.Id;
    const tty = !!info.Config?.Tty;
    const withStdin = !flags.bool('no-stdin') && !!info.Config?.OpenStdin;
    const detachKeys = flags.string('detach-keys');
    if (detachKeys) parseDetachKeys(detachKeys);
    if (tty && withStdin && !ctx.stdin.isTTY) throw new StatusError('the input device is not a TTY', 1);
    const conn = await ctx.client.hijack('POST', `/containers/${enc(id)}/attach`, {
      query: { stream: 1, stdin: withStdin ? 1 : undefined, stdout: 1, stderr: 1, detachKeys: detachKeys || undefined },
    });
    const stopResize = tty ? monitorTtySize(ctx, `/containers/${enc(id)}/resize`) : () => {};
    const stopSignals = !tty && flags.bool('sig-proxy') ? proxySignals(ctx, id) : () => {};
    try {
      const r = await pumpStreams(ctx, conn, { tty, attachStdin: withStdin, detachKeys });
      if (r.detached) return 0;
    } finally {
      stopResize();
      stopSignals();
    }
    // the stream ended: report how the container exited, as docker's getExitStatus does
    const after = await ctx.client.get(`/containers/${enc(id)}/json`).catch(() => undefined);
    return Number(after?.State?.ExitCode ?? 0);
  },
};
