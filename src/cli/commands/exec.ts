// berth exec: create the exec, start it hijacked, exit with its ExitCode.
import type { Command } from '../command.js';
import { enc } from '../batch.js';
import { StatusError } from '../flags.js';
import { parseEnvFile, validateEnv } from '../envfile.js';
import { monitorTtySize, parseDetachKeys, pumpStreams } from '../containerio.js';

export const command: Command = {
  spec: {
    use: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
    short: 'Execute a command in a running container',
    aliases: ['berth container exec', 'berth exec'],
    flags: [
      { name: 'detach', short: 'd', type: 'bool', usage: 'Detached mode: run command in the background' },
      { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
      { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables' },
      { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
      { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
      { name: 'privileged', type: 'bool', usage: 'Give extended privileges to the command' },
      { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
      { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
      { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
    ],
    args: { kind: 'min', n: 2 },
    stopAtFirstArg: true,
  },
  async run(ctx, flags, args) {
    const detach = flags.bool('detach');
    const tty = flags.bool('tty');
    const interactive = flags.bool('interactive');
    const detachKeys = flags.string('detach-keys');
    if (detachKeys) parseDetachKeys(detachKeys);
    let env: string[];
    try {
      env = [
        ...flags.list('env-file').flatMap((f) => parseEnvFile(f, ctx.env)),
        ...flags.list('env').map((e) => validateEnv(e, ctx.env)),
      ];
    } catch (e) {
      throw new StatusError((e as Error).message, 1);
    }
    if (tty && interactive && !detach && !ctx.stdin.isTTY) throw new StatusError('the input device is not a TTY', 1);
    const consoleSize = tty && ctx.stdout.isTTY ? [ctx.stdout.rows ?? 0, ctx.stdout.columns ?? 0] : [0, 0];
    const body = {
      User: flags.string('user'),
      Privileged: flags.bool('privileged'),
      Tty: tty,
      ConsoleSize: consoleSize,
      AttachStdin: interactive && !detach,
      AttachStderr: !detach,
      AttachStdout: !detach,
      Detach: detach,
      DetachKeys: detachKeys,
      Env: env.length ? env : null,
      WorkingDir: flags.string('workdir'),
      Cmd: args.slice(1),
    };
    const created = await ctx.client.post(`/containers/${enc(args[0])}/exec`, undefined, body);
    const execId: string = created.Id;
    if (detach) {
      await ctx.client.post(`/exec/${enc(execId)}/start`, undefined, { Detach: true, Tty: tty, ConsoleSize: consoleSize });
      return 0;
    }
    const conn = await ctx.client.hijack('POST', `/exec/${enc(execId)}/start`, {
      body: { Detach: false, Tty: tty, ConsoleSize: consoleSize },
    });
    const streams = pumpStreams(ctx, conn, { tty, attachStdin: body.AttachStdin, detachKeys });
    const stopResize = tty ? monitorTtySize(ctx, `/exec/${enc(execId)}/resize`) : () => {};
    try {
      const r = await streams;
      if (r.detached) return 0;
    } finally {
      stopResize();
    }
    const info = await ctx.client.get(`/exec/${enc(execId)}/json`);
    return Number(info?.ExitCode ?? 0);
  },
};
