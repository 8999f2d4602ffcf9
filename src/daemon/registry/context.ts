import { BlobSources } from './blob-sources.js';
import { RegistryHosts } from './hosts.js';
import { Limiter } from './limiter.js';

/** Where registries' TLS material is looked up unless berthd is told otherwise: berth's own, then docker's. */
export const DEFAULT_CERTS_DIRS = ['/etc/berth/certs.d', '/etc/docker/certs.d'];

/** The daemon's registry settings and knowledge, shared by pulls, pushes and logins. */
export interface RegistryContext {
  hosts: RegistryHosts;
  sources: BlobSources;
  /** Daemon-wide bounds on layer transfers (dockerd's --max-concurrent-downloads/uploads, default 3 and 5). */
  downloads: Limiter;
  uploads: Limiter;
  /** Tries per layer download before a pull fails (dockerd's --max-download-attempts, default 5). */
  downloadAttempts: number;
}

// Pulls start from the API and from the builder, both holding the image service
// they fill; the settings are the daemon's, so they are found through it rather
// than threaded through every caller.
const contexts = new WeakMap<object, RegistryContext>();
let fallback: RegistryContext | undefined;

export function configureRegistry(images: object, ctx: RegistryContext): void {
  contexts.set(images, ctx);
}

/** The context configured for `images`, or dockerd's defaults (loopback insecure, no mirrors). */
export function registryOf(images: object): RegistryContext {
  const c = contexts.get(images);
  if (c) return c;
  fallback ??= {
    hosts: new RegistryHosts({ insecure: [], mirrors: [], certsDirs: DEFAULT_CERTS_DIRS }),
    sources: new BlobSources(),
    downloads: new Limiter(3),
    uploads: new Limiter(5),
    downloadAttempts: 5,
  };
  return fallback;
}
