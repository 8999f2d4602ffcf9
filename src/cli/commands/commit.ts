// berth commit / container commit
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { familiarName, parseNormalized } from '../../common/reference.js';

export const command: Command = {
  spec: {
    use: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
    short: "Create a new image from a container's changes",
    aliases: ['berth container commit', 'berth commit'],
    flags: [
      { name: 'author', short: 'a', type: 'string', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
      { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
      { name: 'message', short: 'm', type: 'string', usage: 'Commit message' },
      { name: 'pause', short: 'p', type: 'bool', usage: 'Pause container during commit', def: 'true' },
    ],
    args: { kind: 'range', min: 1, max: 2 },
  },
  async run(ctx, flags, args) {
    const [container, reference] = args;
    let repo: string | undefined;
    let tag: string | undefined;
    if (reference) {
      let ref;
      try {
        ref = parseNormalized(reference);
      } catch (e) {
        throw new StatusError((e as Error).message, 1);
      }
      if (ref.digest) throw new StatusError('refusing to create a tag with a digest reference', 1);
      repo = familiarName(ref);
      tag = ref.tag;
    }
    const r = await ctx.client.post('/commit', {
      container,
      repo,
      tag,
      comment: flags.string('message') || undefined,
      author: flags.string('author') || undefined,
      pause: flags.bool('pause'),
      changes: flags.list('change').length ? flags.list('change') : undefined,
    });
    ctx.stdout.write(`${r.Id}\n`);
    return 0;
  },
};
