// berth pull / image pull: the daemon's JSON progress, then the full reference, as docker prints it.
import { PassThrough } from 'node:stream';
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { renderJSONStream } from '../jsonprogress.js';
import { registryAuthHeader } from '../dockerconfig.js';
import { fullName, parseNormalized, referenceString, withDefaultTag } from '../../common/reference.js';

export const command: Command = {
  spec: {
    use: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
    short: 'Download an image from a registry',
    aliases: ['berth image pull', 'berth pull'],
    flags: [
      { name: 'all-tags', short: 'a', type: 'bool', usage: 'Download all tagged images in the repository' },
      { name: 'disable-content-trust', type: 'bool', usage: 'Skip image verification', def: 'true' },
      { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress verbose output' },
    ],
    args: { kind: 'exact', n: 1 },
  },
  async run(ctx, flags, args) {
    const name = args[0]!;
    let ref;
    try {
      ref = parseNormalized(name);
    } catch (e) {
      throw new StatusError((e as Error).message, 1);
    }
    if (flags.bool('all-tags')) {
      if (ref.tag || ref.digest) throw new StatusError('tag can\'t be used with --all-tags/-a', 1);
    } else {
      ref = withDefaultTag(ref);
    }
    const quiet = flags.bool('quiet');
    const res = await ctx.client.stream('POST', '/images/create', {
      query: { fromImage: fullName(ref), tag: ref.digest ?? ref.tag ?? '', platform: flags.string('platform') || undefined },
      headers: { 'X-Registry-Auth': registryAuthHeader(ctx.env, name) },
    });
    await renderJSONStream(res, quiet ? new PassThrough().resume() : ctx.stdout, false);
    ctx.stdout.write(referenceString(ref) + '\n');
    return 0;
  },
};
