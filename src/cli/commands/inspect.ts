// berth inspect: containers, then images, like docker's generic inspect (networks/volumes too).
import type { Command, Ctx } from '../command.js';
import { enc, FORMAT_USAGE_JSON } from '../batch.js';
import { httpStatusOf } from '../client.js';
import { StatusError } from '../flags.js';
import { formatInspect } from '../format/index.js';

const TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

const LOOKUPS: Record<string, (ctx: Ctx, name: string, size: boolean) => Promise<unknown>> = {
  container: (ctx, n, size) => ctx.client.get(`/containers/${enc(n)}/json`, size ? { size: 1 } : undefined),
  image: (ctx, n) => ctx.client.get(`/images/${enc(n)}/json`),
  network: (ctx, n) => ctx.client.get(`/networks/${enc(n)}`),
  volume: (ctx, n) => ctx.client.get(`/volumes/${enc(n)}`),
};

/** Collects objects and error texts, prints the objects, then the errors (docker's inspect.Inspect). */
export async function inspectAll(
  ctx: Ctx,
  names: string[],
  format: string,
  get: (name: string) => Promise<unknown>,
): Promise<number> {
  const objs: unknown[] = [];
  const errors: string[] = [];
  for (const n of names) {
    try {
      objs.push(await get(n));
    } catch (e) {
      if (/^Cannot connect to the berth daemon/.test((e as Error).message)) throw e;
      errors.push((e as Error).message);
    }
  }
  let text: string;
  try {
    text = formatInspect(objs, format || undefined);
  } catch (e) {
    throw new StatusError(`template parsing error: ${(e as Error).message}`, 1);
  }
  ctx.stdout.write(text.endsWith('\n') || text === '' ? text : text + '\n');
  if (errors.length) throw new StatusError(errors.join('\n'), 1);
  return 0;
}

export const command: Command = {
  spec: {
    use: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
    short: 'Return low-level information on Docker objects',
    flags: [
      { name: 'format', short: 'f', type: 'string', usage: FORMAT_USAGE_JSON },
      { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes if the type is container' },
      { name: 'type', type: 'string', usage: 'Only inspect objects of the given type' },
    ],
    args: { kind: 'min', n: 1 },
  },
  run(ctx, flags, args) {
    const type = flags.string('type');
    if (type && !TYPES.includes(type)) {
      throw new StatusError(`unknown type: ${JSON.stringify(type)}: must be one of ${TYPES.map((t) => JSON.stringify(t)).join(', ')}`, 1);
    }
    const size = flags.bool('size');
    const kinds = type ? [type] : ['container', 'image', 'network', 'volume'];
    return inspectAll(ctx, args, flags.string('format'), async (name) => {
      for (const k of kinds) {
        const fn = LOOKUPS[k];
        if (!fn) continue;
        try {
          return await fn(ctx, name, size);
        } catch (e) {
          if (httpStatusOf(e) !== 404) throw e;
          if (type) throw e;
        }
      }
      throw new Error(`Error: No such object: ${name}`);
    });
  },
};
