// berth import / image import: file, URL or '-' (stdin) as the image's root filesystem.
import { createReadStream, statSync } from 'node:fs';
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { renderJSONStream } from '../jsonprogress.js';
import { parseNormalized } from '../../common/reference.js';

export const command: Command = {
  spec: {
    use: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    short: 'Import the contents from a tarball to create a filesystem image',
    aliases: ['berth image import', 'berth import'],
    flags: [
      { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
      { name: 'message', short: 'm', type: 'string', usage: 'Set commit message for imported image' },
      { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
    ],
    args: { kind: 'min', n: 1 },
  },
  async run(ctx, flags, args) {
    const [source, ref] = args;
    if (ref) {
      try {
        parseNormalized(ref);
      } catch (e) {
        throw new StatusError((e as Error).message, 1);
      }
    }
    let body;
    let fromSrc = source;
    if (source === '-') {
      body = ctx.stdin;
    } else if (/^(https?):\/\//.test(source)) {
      body = undefined;
    } else {
      try {
        statSync(source);
      } catch {
        throw new StatusError(`open ${source}: no such file or directory`, 1);
      }
      body = createReadStream(source);
      fromSrc = '-';
    }
    const res = await ctx.client.stream('POST', '/images/create', {
      query: {
        fromSrc,
        repo: ref || undefined,
        message: flags.string('message') || undefined,
        changes: flags.list('change').length ? flags.list('change') : undefined,
        platform: flags.string('platform') || undefined,
      },
      body,
      headers: body ? { 'Content-Type': 'application/x-tar' } : undefined,
    });
    await renderJSONStream(res, ctx.stdout, false);
    return 0;
  },
};
