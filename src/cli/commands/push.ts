// berth push / image push: streams the daemon's push progress; -q prints only the reference.
import { PassThrough } from 'node:stream';
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { renderJSONStream } from '../jsonprogress.js';
import { registryAuthHeader } from '../dockerconfig.js';
import { enc } from '../batch.js';
import { familiarName, parseNormalized, referenceString, withDefaultTag } from '../../common/reference.js';

export const command: Command = {
  spec: {
    use: 'push [OPTIONS] NAME[:TAG]',
    short: 'Upload an image to a registry',
    aliases: ['berth image push', 'berth push'],
    flags: [
      { name: 'all-tags', short: 'a', type: 'bool', usage: 'Push all tags of an image to the repository' },
      { name: 'disable-content-trust', type: 'bool', usage: 'Skip image signing', def: 'true' },
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
      throw new StatusError(`invalid reference format: ${(e as Error).message}`, 1);
    }
    const all = flags.bool('all-tags');
    if (all && ref.tag) throw new StatusError('tag can\'t be used with --all-tags/-a', 1);
    if (ref.digest) throw new StatusError('cannot push a digest reference', 1);
    if (!all) ref = withDefaultTag(ref);
    const quiet = flags.bool('quiet');
    const res = await ctx.client.stream('POST', `/images/${enc(familiarName(ref))}/push`, {
      query: { tag: all ? undefined : ref.tag },
      headers: { 'X-Registry-Auth': registryAuthHeader(ctx.env, name) },
    });
    await renderJSONStream(res, quiet ? new PassThrough().resume() : ctx.stdout, false);
    if (quiet) ctx.stdout.write(referenceString(ref) + '\n');
    return 0;
  },
};
