import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { AuthConfig } from '../../common/registry-auth.js';
import { Authorizer } from './auth.js';
import type { Endpoint } from './endpoint.js';
import { formatRegistryErrors, RegistryError } from './errors.js';

export const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const MT_SCHEMA1 = ['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws'];
const ACCEPT = [MT_DOCKER_MANIFEST, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_OCI_INDEX].join(', ');

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
  json: any;
}

/** A client for one repository of one registry (OCI distribution spec). */
export class RepositoryClient {
  private readonly auth: Authorizer;
  private pinged = false;
  private readonly scopes: string[];

  constructor(
    readonly endpoint: Endpoint,
    /** repository path, e.g. `library/busybox` */
    readonly repo: string,
    creds: AuthConfig,
    push = false,
  ) {
    this.auth = new Authorizer(creds);
    this.scopes = [`repository:${repo}:${push ? 'pull,push' : 'pull'}`];
  }

  url(p: string): string {
    return `${this.endpoint.base}/v2/${this.repo}/${p}`;
  }

  /** GET /v2/ once, to learn how the registry wants to be authenticated. */
  async ping(): Promise<void> {
    if (this.pinged) return;
    const url = `${this.endpoint.base}/v2/`;
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'follow' });
    } catch (e) {
      throw new RegistryError(`Get "${url}": ${netMessage(e)}`, 500);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.status === 401) this.auth.learn(res.headers.get('www-authenticate'));
    this.pinged = true;
  }

  /** Fails early, with the bare message dockerd's pusher gives, when the registry wants credentials we lack. */
  async authorize(): Promise<void> {
    await this.ping();
    await this.auth.header(this.scopes);
  }

  /** A request with auth; `verb` names the HTTP call in docker's `Verb "url": msg` error wording. */
  async request(method: string, url: string, init: { headers?: Record<string, string>; body?: any; verb?: string } = {}): Promise<Response> {
    await this.ping();
    const verb = init.verb ?? method[0] + method.slice(1).toLowerCase();
    const headers: Record<string, string> = { ...init.headers };
    try {
      const h = await this.auth.header(this.scopes);
      if (h) headers.authorization = h;
    } catch (e) {
      if (e instanceof RegistryError) throw new RegistryError(`${verb} "${url}": ${e.message}`, e.status, e.code);
      throw e;
    }
    try {
      const opts: RequestInit & { duplex?: string } = { method, headers, body: init.body, redirect: 'follow' };
      if (init.body instanceof Readable) opts.duplex = 'half';
      return await fetch(url, opts as RequestInit);
    } catch (e) {
      throw new RegistryError(`${verb} "${url}": ${netMessage(e)}`, 500);
    }
  }

  async fail(res: Response): Promise<never> {
    const body = await res.text().catch(() => '');
    const { message, code } = formatRegistryErrors(res.status, body);
    throw new RegistryError(message, res.status, code);
  }

  /** Fetches a manifest by tag or digest and checks the digest when it was asked by digest. */
  async manifest(ref: string): Promise<FetchedManifest> {
    const url = this.url(`manifests/${ref}`);
    const res = await this.request('GET', url, { headers: { accept: ACCEPT }, verb: 'Head' });
    if (!res.ok) await this.fail(res);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
    if (ref.startsWith('sha256:') && ref !== digest) throw new RegistryError(`manifest verification failed for digest ${ref}`, 500);
    let json: any;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new RegistryError('invalid manifest: not JSON', 500);
    }
    const ct = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const mediaType: string = json.mediaType ?? (json.manifests ? MT_OCI_INDEX : ct || MT_OCI_MANIFEST);
    if (MT_SCHEMA1.includes(mediaType) || json.schemaVersion === 1) {
      throw new RegistryError('support for Docker Image Format v1 and Docker Image manifest version 2, schema 1 has been removed', 500);
    }
    return { bytes, mediaType, digest, json };
  }

  /**
   * A blob's bytes, checked while they stream: more bytes than `size` abort at
   * once; the digest is checked by whoever stores the stream.
   */
  async blob(digest: string, size: number): Promise<Readable> {
    const res = await this.request('GET', this.url(`blobs/${digest}`));
    if (!res.ok) await this.fail(res);
    if (!res.body) throw new RegistryError(`empty response for blob ${digest}`, 500);
    let seen = 0;
    const guard = new Transform({
      transform(chunk: Buffer, _e, cb) {
        seen += chunk.length;
        if (size >= 0 && seen > size) return cb(new RegistryError(`filesystem layer verification failed for digest ${digest}`, 500));
        cb(null, chunk);
      },
      flush(cb) {
        if (size >= 0 && seen !== size) return cb(new RegistryError(`filesystem layer verification failed for digest ${digest}`, 500));
        cb();
      },
    });
    const src = Readable.fromWeb(res.body as any);
    src.on('error', (e) => guard.destroy(e));
    // Whoever gives up on the guard (digest mismatch, cancelled pull) also ends the download.
    guard.on('close', () => {
      if (!src.destroyed) src.destroy();
    });
    return src.pipe(guard);
  }

  /** Every tag of the repository (GET /v2/<name>/tags/list, following Link pagination). */
  async tags(): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = this.url('tags/list');
    for (let i = 0; next && i < 100; i++) {
      const res = await this.request('GET', next);
      if (!res.ok) await this.fail(res);
      const j = (await res.json()) as { tags?: string[] | null };
      out.push(...(j.tags ?? []));
      const link = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      next = link ? new URL(link[1]!, this.endpoint.base).toString() : undefined;
    }
    return out;
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', this.url(`blobs/${digest}`));
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.fail(res);
  }

  /** Monolithic upload: POST to start a session, PUT the bytes with the digest. */
  async uploadBlob(digest: string, size: number, body: Readable): Promise<void> {
    const start = await this.request('POST', this.url('blobs/uploads/'), { headers: { 'content-length': '0' } });
    if (start.status !== 202) await this.fail(start);
    await start.arrayBuffer().catch(() => undefined);
    const loc = start.headers.get('location');
    if (!loc) throw new RegistryError('registry did not return an upload location', 500);
    const u = new URL(loc, this.endpoint.base);
    u.searchParams.set('digest', digest);
    const res = await this.request('PUT', u.toString(), {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
    });
    if (res.status !== 201) await this.fail(res);
    await res.arrayBuffer().catch(() => undefined);
  }

  async putManifest(tag: string, mediaType: string, bytes: Buffer): Promise<void> {
    const res = await this.request('PUT', this.url(`manifests/${tag}`), { headers: { 'content-type': mediaType }, body: bytes });
    if (res.status !== 201 && res.status !== 200) await this.fail(res);
    await res.arrayBuffer().catch(() => undefined);
  }
}

function netMessage(e: unknown): string {
  const c = (e as any)?.cause;
  if (c?.code === 'ECONNREFUSED') return `dial tcp ${c.address ?? ''}${c.port ? ':' + c.port : ''}: connect: connection refused`;
  if (c?.code === 'ENOTFOUND') return `dial tcp: lookup ${c.hostname ?? ''}: no such host`;
  return c?.message ?? (e as Error).message;
}
