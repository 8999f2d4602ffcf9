import { serverHost, type AuthConfig } from '../../common/registry-auth.js';
import { Authorizer } from './auth.js';
import type { Endpoint, RegistryHosts } from './hosts.js';
import { RegistryError } from './errors.js';

/**
 * `POST /auth`: checks the credentials against the registry's /v2/ the way
 * dockerd's loginV2 does; resolves when they are accepted.
 */
export async function checkLogin(creds: AuthConfig, hosts: RegistryHosts): Promise<void> {
  let host = serverHost(creds.serveraddress || 'docker.io');
  if (host === 'index.docker.io') host = 'docker.io';
  // The first endpoint that answers at all is the one to log in to (HTTPS before HTTP for insecure registries).
  let first: Response | undefined;
  let ep: Endpoint | undefined;
  let firstErr: RegistryError | undefined;
  for (const cand of hosts.endpoints(host, 'push')) {
    try {
      first = await cand.fetch(`${cand.base}/v2/`);
      ep = cand;
      break;
    } catch (e) {
      firstErr ??= new RegistryError(`Get "${cand.base}/v2/": ${netText(e)}`, 500);
    }
  }
  if (!first || !ep) throw firstErr!;
  const url = `${ep.base}/v2/`;
  await first.arrayBuffer().catch(() => undefined);
  if (first.ok) return;
  const auth = new Authorizer(creds, ep.fetch as typeof fetch);
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
  let res: Response;
  try {
    res = await ep.fetch(url, { headers: header ? { authorization: header } : {} });
  } catch (e) {
    throw new RegistryError(`Get "${url}": ${netText(e)}`, 500);
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return;
  throw new RegistryError(`login attempt to ${url} failed with status: ${res.status} ${statusText(res.status)}`, res.status === 401 ? 401 : 500);
}

function netText(e: unknown): string {
  const c = (e as any)?.cause;
  if (c?.code === 'ECONNREFUSED') return 'dial tcp: connect: connection refused';
  return c?.message ?? (e as Error).message;
}

function statusText(code: number): string {
  const t: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };
  return t[code] ?? '';
}
