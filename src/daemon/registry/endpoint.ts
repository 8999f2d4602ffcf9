import { isIP } from 'node:net';

export interface Endpoint {
  /** `https://registry-1.docker.io` or `http://127.0.0.1:5000`, no trailing slash */
  base: string;
  /** Host as the reference names it (docker.io for Docker Hub). */
  domain: string;
}

/** docker treats loopback registries as insecure by default: plain HTTP. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

/** Where the registry of a reference's domain answers. */
export function endpointFor(domain: string, insecure: string[] = []): Endpoint {
  const host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
  const plain = isLoopbackHost(host) || insecure.includes(host);
  return { base: `${plain ? 'http' : 'https'}://${host}`, domain };
}
