// berth tag / image tag
import type { Command } from '../command.js';
import { enc } from '../batch.js';
import { StatusError } from '../flags.js';
import { parseNormalized, fullName } from '../../common/reference.js';

export const command: Command = {
  spec: {
    use: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    aliases: ['berth image tag', 'berth tag'],
    flags: [],
    args: { kind: 'exact', n: 2 },
  },
  async run(ctx, _flags, args) {
    const [source, target] = args;
    let ref;
    try {
      ref = parseNormalized(target);
    } catch (e) {
      throw new StatusError(`Error parsing reference: ${JSON.stringify(target)} is not a valid repository/tag: ${(e as Error).message}`, 1);
    }
    if (ref.digest) throw new StatusError('refusing to create a tag with a digest reference', 1);
    await ctx.client.post(`/images/${enc(source)}/tag`, { repo: fullName(ref), tag: ref.tag ?? 'latest' });
    return 0;
  },
};
