// berth load / image load: tar from -i or stdin, prints the daemon's `Loaded image: …` lines.
import { createReadStream, statSync } from 'node:fs';
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { renderJSONStream } from '../jsonprogress.js';

export const command: Command = {
  spec: {
    use: 'load [OPTIONS]',
    short: 'Load an image from a tar archive or STDIN',
    aliases: ['berth image load', 'berth load'],
    flags: [
      { name: 'input', short: 'i', type: 'string', usage: 'Read from tar archive file, instead of STDIN' },
      { name: 'platform', type: 'stringSlice', usage: 'Load only the given platform(s). Formatted as a comma-separated list of "os[/arch[/variant]]" (e.g., "linux/amd64,linux/arm64/v8").' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the load output' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const input = flags.string('input');
    let body;
    if (input) {
      try {
        statSync(input);
      } catch {
        throw new StatusError(`open ${input}: no such file or directory`, 1);
      }
      body = createReadStream(input);
    } else {
      if (ctx.stdin.isTTY) throw new StatusError('requested load from stdin, but stdin is empty', 1);
      body = ctx.stdin;
    }
    const quiet = flags.bool('quiet') || !ctx.stdout.isTTY;
    const res = await ctx.client.stream('POST', '/images/load', {
      query: { quiet: quiet || undefined },
      body,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    if ((res.headers['content-type'] ?? '').includes('json')) await renderJSONStream(res, ctx.stdout, false);
    else res.pipe(ctx.stdout, { end: false });
    return 0;
  },
};
