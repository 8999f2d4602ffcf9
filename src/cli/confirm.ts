// docker's prune prompt: one line from stdin, "y" or "Y" agrees.
import type { Ctx } from './command.js';

export async function confirm(ctx: Ctx, warning: string): Promise<boolean> {
  ctx.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer | string) => {
      buf += c.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) done(buf.slice(0, i));
    };
    const done = (s: string) => {
      ctx.stdin.off('data', onData);
      ctx.stdin.off('end', onEnd);
      ctx.stdin.pause();
      resolve(s);
    };
    const onEnd = () => done(buf);
    ctx.stdin.on('data', onData);
    ctx.stdin.once('end', onEnd);
    ctx.stdin.resume();
  });
  const ok = /^y(es)?$/i.test(line.trim());
  if (!ok) ctx.stdout.write('\n');
  return ok;
}
