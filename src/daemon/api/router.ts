import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from '../errors.js';

/** What a route handler gets: the raw request plus the parts every route needs. */
export interface ApiRequest {
  raw: IncomingMessage;
  method: string;
  /** Path without the `/vX.Y` prefix. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Negotiated API version of this request ("1.47"). */
  apiVersion: string;
}

export type Handler = (req: ApiRequest, res: ServerResponse) => Promise<void> | void;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

/**
 * Path router. Patterns use `{name}` segments like the swagger; a final
 * `{name*}` swallows the rest (image names contain slashes:
 * `/images/localhost:5000/ns/app/json`).
 */
export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): void {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
  }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'method' | undefined {
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    let pathMatched = false;
    for (const r of this.routes) {
      const params = matchParts(r.parts, segs);
      if (!params) continue;
      pathMatched = true;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { handler: r.handler, params };
    }
    return pathMatched ? 'method' : undefined;
  }
}

function matchParts(parts: string[], segs: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.startsWith('{') && p.endsWith('*}')) {
      // Greedy name followed by fixed suffix parts: `/images/{name*}/json`.
      const suffix = parts.slice(i + 1);
      const nameLen = segs.length - i - suffix.length;
      if (nameLen < 1) return undefined;
      for (let j = 0; j < suffix.length; j++) {
        if (suffix[j] !== segs[i + nameLen + j]) return undefined;
      }
      params[p.slice(1, -2)] = segs.slice(i, i + nameLen).join('/');
      return params;
    }
    const s = segs[i];
    if (s === undefined) return undefined;
    if (p.startsWith('{') && p.endsWith('}')) params[p.slice(1, -1)] = s;
    else if (p !== s) return undefined;
  }
  return parts.length === segs.length ? params : undefined;
}

/** Reads and parses a JSON body; empty body gives `undefined`. */
export async function readJson(req: ApiRequest): Promise<unknown> {
  const buf = await readBody(req.raw);
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw badRequest(`invalid character in JSON body: ${(e as Error).message}`);
  }
}

/** Body of an upgraded request: Node hands it over with the connection, so the server stores it here. */
export const UPGRADE_BODY = Symbol('upgradeBody');

export async function readBody(raw: IncomingMessage): Promise<Buffer> {
  const pre = (raw as IncomingMessage & { [UPGRADE_BODY]?: Buffer })[UPGRADE_BODY];
  if (pre) return pre;
  const chunks: Buffer[] = [];
  for await (const c of raw) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

/** Query booleans as dockerd parses them: "1", "true", "True" are true; "0", "false", "" false. */
export function boolQuery(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  const s = v.toLowerCase();
  return !(s === '' || s === '0' || s === 'false' || s === 'no');
}

export function intQuery(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid value for ${name}: ${v}`);
  return n;
}

/** `filters={"status":["running"],"label":["a=b"]}`; also the legacy map form `{"status":{"running":true}}`. */
export function filtersQuery(q: URLSearchParams): Map<string, string[]> {
  const m = new Map<string, string[]>();
  const raw = q.get('filters');
  if (!raw) return m;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    throw badRequest(`invalid filter: ${raw}`);
  }
  if (obj === null || typeof obj !== 'object') throw badRequest(`invalid filter: ${raw}`);
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (Array.isArray(v)) m.set(k, v.map(String));
    else if (v && typeof v === 'object') m.set(k, Object.keys(v as object));
    else throw badRequest(`invalid filter: ${raw}`);
  }
  return m;
}
