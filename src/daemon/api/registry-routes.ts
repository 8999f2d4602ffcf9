import type { ServerResponse } from 'node:http';
import type { ApiRequest, Router } from './router.js';
import { readJson, sendJson } from './router.js';
import { ApiError, badRequest, errorMessage, notFound } from '../errors.js';
import type { ImageService } from '../services/image-service.js';
import { decodeAuthHeader, type AuthConfig } from '../../common/registry-auth.js';
import { familiarName, fullName, parseNormalized, ReferenceError, referenceString, withDefaultTag, isValidTag, type Reference } from '../../common/reference.js';
import { RegistryError } from '../registry/errors.js';
import { pull, pullAllTags } from '../registry/pull.js';
import { push, pushHeader } from '../registry/push.js';
import { checkLogin } from '../registry/login.js';
import { registryOf } from '../registry/context.js';

/**
 * A JSON message stream whose HTTP head is only sent with the first message,
 * so failures before any progress still become plain HTTP errors, as with dockerd.
 */
class LazyStream {
  started = false;
  constructor(private readonly res: ServerResponse) {}
  write = (msg: object): void => {
    if (!this.started) {
      this.res.writeHead(200, { 'Content-Type': 'application/json' });
      this.started = true;
    }
    this.res.write(JSON.stringify(msg) + '\n');
  };
  /** After the head went out, an error travels as the stream's last message. */
  fail(err: unknown): void {
    if (!this.started) throw toApiError(err);
    const message = errorMessage(err);
    this.write({ errorDetail: { message }, error: message });
  }
}

/** dockerd answers registry failures on pull/push with 404 or 500; a 401 would make the docker CLI prompt for a login. */
function toApiError(err: unknown, unauthorized = 500): unknown {
  if (err instanceof RegistryError) return new ApiError(err.status === 404 ? 404 : err.status === 401 ? unauthorized : 500, err.message);
  return err;
}

function creds(req: ApiRequest): AuthConfig {
  const h = req.raw.headers['x-registry-auth'];
  return decodeAuthHeader(Array.isArray(h) ? h[0] : h);
}

function parseRef(s: string): Reference {
  try {
    return parseNormalized(s);
  } catch (e) {
    if (e instanceof ReferenceError) throw badRequest(e.message);
    throw e;
  }
}

/** `POST /images/create?fromImage=…` when pulling from a registry. */
export async function handlePull(images: ImageService, req: ApiRequest, res: ServerResponse): Promise<void> {
  const q = req.query;
  const tag = q.get('tag') ?? '';
  let ref = parseRef(q.get('fromImage')!);
  if (tag) {
    if (tag.includes(':')) ref = { domain: ref.domain, path: ref.path, digest: tag };
    else if (isValidTag(tag)) ref = { domain: ref.domain, path: ref.path, tag };
    else throw badRequest('invalid tag format');
  }
  const stream = new LazyStream(res);
  // A client that hangs up (ctrl-c on pull) cancels the pull, as with dockerd.
  const gone = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  const opts = { creds: creds(req), platform: q.get('platform') ?? undefined, signal: gone.signal };
  try {
    // No tag anywhere means every tag (the API's documented meaning; `docker pull -a`).
    if (!ref.tag && !ref.digest) await pullAllTags(images, ref, stream.write, opts);
    else await pull(images, ref, stream.write, opts);
  } catch (e) {
    stream.fail(e);
  }
  res.end();
}

export function registerRegistryRoutes(router: Router, images: ImageService): void {
  router.add('POST', '/auth', async (req, res) => {
    const body = ((await readJson(req)) ?? {}) as AuthConfig;
    if (typeof body !== 'object') throw badRequest('invalid auth configuration');
    try {
      await checkLogin(body, registryOf(images).hosts);
    } catch (e) {
      throw toApiError(e, 401);
    }
    sendJson(res, 200, { IdentityToken: '', Status: 'Login Succeeded' });
  });

  router.add('POST', '/images/{name*}/push', async (req, res) => {
    const name = parseRef(req.params.name!);
    const tag = req.query.get('tag') ?? name.tag ?? '';
    if (tag && !isValidTag(tag)) throw badRequest('invalid tag format');
    const repo = fullName(name);
    // No tag: every tag of the repository, as dockerd does.
    const targets: Array<{ ref: Reference; id: string }> = [];
    if (tag) {
      const ref: Reference = { domain: name.domain, path: name.path, tag };
      const id = images.store.getRef(referenceString(ref));
      if (id && images.store.get(id)) targets.push({ ref, id });
    } else {
      for (const img of images.store.list()) {
        for (const r of images.store.refsOf(img.id)) {
          const p = parseNormalized(r);
          if (p.tag && !p.digest && fullName(p) === repo) targets.push({ ref: p, id: img.id });
        }
      }
    }
    if (targets.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(name)}`);
    const stream = new LazyStream(res);
    try {
      stream.write(pushHeader(withDefaultTag(name)));
      for (const t of targets) await push(images, t.ref, t.id, stream.write, creds(req));
    } catch (e) {
      stream.fail(e);
    }
    res.end();
  });
}
