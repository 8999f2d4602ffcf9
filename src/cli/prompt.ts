// Line prompts on the user's terminal, as the docker CLI asks for a username and (unechoed) password.
import type { Ctx } from './command.js';
import { StatusError } from './flags.js';

/** Reads one line from a terminal stdin; with `echo: false` nothing typed is shown. */
export async function promptLine(ctx: Ctx, question: string, opts: { echo: boolean }): Promise<string> {
  const stdin = ctx.stdin;
  ctx.stderr.write(question);
  stdin.setRawMode?.(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let line = '';
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            ctx.stderr.write('\n');
            return resolve(line);
          }
          if (ch === '\u0003' || ch === '\u0004') {
            stdin.off('data', onData);
            ctx.stderr.write('\n');
            return reject(new StatusError('', ch === '\u0003' ? 130 : 1));
          }
          if (ch === '\u007f' || ch === '\b') {
            if (line.length) {
              line = line.slice(0, -1);
              if (opts.echo) ctx.stderr.write('\b \b');
            }
            continue;
          }
          line += ch;
          if (opts.echo) ctx.stderr.write(ch);
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode?.(false);
    stdin.pause();
  }
}
