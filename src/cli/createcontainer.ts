// `create` with docker's pull-on-missing flow, shared by run and create.
import { writeFileSync, existsSync } from 'node:fs';
import type { Ctx } from './command.js';
import type { CreateRequest } from './containeropts.js';
import { httpStatusOf } from './client.js';
import { renderJSONStream } from './jsonprogress.js';
import { registryAuthHeader } from './dockerconfig.js';
import { StatusError } from './flags.js';
import { parseNormalized, withDefaultTag, fullName, familiarString } from '../common/reference.js';

export async function pullImage(ctx: Ctx, image: string, platform: string, quiet: boolean): Promise<void> {
  let ref;
  try {
    ref = withDefaultTag(parseNormalized(image));
  } catch (e) {
    throw new StatusError((e as Error).message, 125);
  }
  const res = await ctx.client.stream('POST', '/images/create', {
    query: { fromImage: fullName(ref), tag: ref.digest ?? ref.tag, platform: platform || undefined },
    headers: { 'X-Registry-Auth': registryAuthHeader(ctx.env, image) },
  });
  const out = quiet ? new (await import('node:stream')).PassThrough().resume() : ctx.stderr;
  await renderJSONStream(res, out, false);
}

function isMissingImage(e: unknown): boolean {
  return httpStatusOf(e) === 404 && /No such image/i.test((e as Error).message);
}

export async function createContainer(
  ctx: Ctx,
  req: CreateRequest,
  pull: string,
  quiet: boolean,
  cidfile: string,
): Promise<{ Id: string; Warnings?: string[] }> {
  if (cidfile && existsSync(cidfile)) {
    throw new StatusError(`Container ID file found, make sure the other container isn't running or delete ${cidfile}`, 125);
  }
  if (!['always', 'missing', 'never'].includes(pull)) {
    throw new StatusError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, 125);
  }
  const query = { name: req.name || undefined, platform: req.platform || undefined };
  const create = () => ctx.client.post<{ Id: string; Warnings?: string[] }>('/containers/create', query, req.body);
  if (pull === 'always') await pullImage(ctx, req.image, req.platform, quiet);
  let res;
  try {
    res = await create();
  } catch (e) {
    if (!isMissingImage(e) || pull !== 'missing') throw e;
    let shown = req.image;
    try {
      shown = familiarString(withDefaultTag(parseNormalized(req.image)));
    } catch {
      // keep what the user typed
    }
    ctx.stderr.write(`Unable to find image '${shown}' locally\n`);
    await pullImage(ctx, req.image, req.platform, quiet);
    res = await create();
  }
  for (const w of res.Warnings ?? []) ctx.stderr.write(`WARNING: ${w}\n`);
  if (cidfile) writeFileSync(cidfile, res.Id);
  return res;
}

/** docker-cli's runStartContainerErr: the runtime's message decides 127/126/125. */
export function startErrorStatus(message: string): number {
  const m = message.replace(/^Error response from daemon: /, '');
  if (m.includes('executable file not found') || m.includes('no such file or directory') || m.includes('system cannot find the file specified')) return 127;
  if (m.includes('permission denied') || m.includes('is a directory')) return 126;
  return 125;
}

/** run/create print errors as `berth: <err>` plus the help hint (docker's cli.StatusError for run). */
export function runError(path: string, message: string, status: number): StatusError {
  return new StatusError(`berth: ${message}\n\nRun '${path} --help' for more information`, status);
}
