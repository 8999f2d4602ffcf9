import { serverHost, type AuthConfig } from '../../common/registry-auth.js';
import { Authorizer } from './auth.js';
import { endpointFor } from './endpoint.js';
import { RegistryError } from './errors.js';

/**
 * `POST /auth`: checks the credentials against the registry's /v2/ the way
 * dockerd's loginV2 does; resolves when they are accepted.
 */
export async function checkLogin(creds: AuthConfig): Promise<void> {
  let host = serverHost(creds.serveraddress || 'docker.io');
  if (host === 'index.docker.io') host = 'docker.io';
  const ep = endpointFor(host);
  const url = `${ep.base}/v2/`;
  const get = async (headers: Record<string, string> = {}) => {
    try {
      return await fetch(url, { headers });
    } catch (e) {
      const c = (e as any)?.cause;
      throw new RegistryError(`Get "${url}": ${c?.code === 'ECONNREFUSED' ? 'dial tcp: connect: connection refused' : c?.message ?? (e as Error).message}`, 500);
    }
  };
  const first = await get();
  await first.arrayBuffer().catch(() => undefined);
  if (first.ok) return;
  const auth = new Authorizer(creds);
  if (first.status !== 401 || !auth.learn(first.headers.get('www-authenticate'))) {
    throw new RegistryError(`login attempt to ${url} failed with status: ${first.status} ${statusText(first.status)}`, first.status === 401 ? 401 : 500);
  }
  let header: string | undefined;
  try {
    header = await auth.header([]);
  } catch (e) {
    if (e instanceof RegistryError) throw new RegistryError(e.message, 401);
    throw e;
  }
  const res = await get(header ? { authorization: header } : {});
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return;
  throw new RegistryError(`login attempt to ${url} failed with status: ${res.status} ${statusText(res.status)}`, res.status === 401 ? 401 : 500);
}

function statusText(code: number): string {
  const t: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };
  return t[code] ?? '';
}
