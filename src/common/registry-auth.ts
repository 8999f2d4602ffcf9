/**
 * The X-Registry-Auth header docker clients send on pull/push: base64url of a
 * JSON AuthConfig. Shared by the CLI (encode) and berthd (decode).
 */

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export function encodeAuthHeader(a: AuthConfig): string {
  return Buffer.from(JSON.stringify(a), 'utf8').toString('base64url');
}

/**
 * Lenient like dockerd: standard or URL alphabet, padded or not; an empty or
 * undecodable header means anonymous access rather than an error.
 */
export function decodeAuthHeader(h: string | undefined): AuthConfig {
  if (!h) return {};
  try {
    const json = Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const v = JSON.parse(json);
    if (!v || typeof v !== 'object') return {};
    const out: AuthConfig = {};
    for (const k of ['username', 'password', 'auth', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
      if (typeof v[k] === 'string' && v[k]) out[k] = v[k];
    }
    // docker config's `auth` field carries user:pass when the split fields are absent.
    if (out.auth && !out.username) {
      const s = Buffer.from(out.auth, 'base64').toString('utf8');
      const i = s.indexOf(':');
      if (i > 0) {
        out.username = s.slice(0, i);
        out.password = s.slice(i + 1);
      }
    }
    return out;
  } catch {
    return {};
  }
}

/** The key docker login uses in config.json for a registry host. */
export function configKeyFor(host: string): string {
  return host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'https://index.docker.io/v1/' : host;
}

/** Host part of a `docker login` server argument: scheme and path dropped. */
export function serverHost(server: string): string {
  let s = server.trim().replace(/^https?:\/\//, '');
  const i = s.indexOf('/');
  if (i >= 0) s = s.slice(0, i);
  return s;
}
