import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { ApiError, errorMessage } from '../errors.js';
import { UPGRADE_BODY, type ApiRequest, type Router } from './router.js';

export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.47';

/** The connection of an upgraded (hijacked) request, for attach and exec. */
const HIJACK = Symbol('hijack');
type HijackableRequest = IncomingMessage & { [HIJACK]?: { socket: Duplex; head: Buffer; upgrade: boolean } };

/**
 * Takes over the connection for a raw stream, the way dockerd answers attach
 * and exec start: `101 UPGRADED` when the client asked for an upgrade, else
 * `200 OK` followed by the raw stream.
 */
export function hijack(req: ApiRequest, res: ServerResponse, contentType = 'application/vnd.docker.raw-stream'): Duplex {
  const h = (req.raw as HijackableRequest)[HIJACK];
  if (h) {
    h.socket.write(
      `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${MAX_API_VERSION}\r\n\r\n`,
    );
    if (h.head.length) h.socket.unshift(h.head);
    return h.socket;
  }
  // A plain request: answer 200 and stream raw bytes on the socket.
  const socket = req.raw.socket;
  res.detachSocket(socket);
  socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nApi-Version: ${MAX_API_VERSION}\r\n\r\n`);
  return socket;
}

export function isHijack(req: ApiRequest): boolean {
  return !!(req.raw as HijackableRequest)[HIJACK];
}

function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number) as [number, number];
  const [b1, b2] = b.split('.').map(Number) as [number, number];
  return a1 - b1 || a2 - b2;
}

export interface ServerOptions {
  router: Router;
  log: (level: string, msg: string) => void;
}

export class ApiServer {
  private servers: http.Server[] = [];

  constructor(private o: ServerOptions) {}

  async listen(hosts: string[]): Promise<void> {
    for (const host of hosts) {
      const server = http.createServer((req, res) => void this.handle(req, res));
      server.on('upgrade', (req: HijackableRequest, socket: Duplex, head: Buffer) => {
        void splitUpgradeBody(req, socket, head).then(({ body, rest }) => {
          (req as HijackableRequest & { [UPGRADE_BODY]?: Buffer })[UPGRADE_BODY] = body;
          req[HIJACK] = { socket, head: rest, upgrade: true };
          const res = new http.ServerResponse(req);
          res.assignSocket(socket as import('node:net').Socket);
          void this.handle(req, res);
        });
      });
      server.keepAliveTimeout = 0;
      server.requestTimeout = 0;
      server.headersTimeout = 60_000;
      const addr = parseHost(host);
      if (addr.kind === 'unix') {
        await fs.promises.mkdir(path.dirname(addr.path), { recursive: true });
        await fs.promises.rm(addr.path, { force: true });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(addr.path, () => resolve());
        });
        await fs.promises.chmod(addr.path, 0o660);
      } else {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(addr.port, addr.host, () => resolve());
        });
      }
      this.servers.push(server);
    }
  }

  async close(): Promise<void> {
    for (const s of this.servers) {
      s.close();
      s.closeAllConnections();
    }
    this.servers = [];
  }

  private async handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(raw.url ?? '/', 'http://berth');
    let p = url.pathname;
    let version = MAX_API_VERSION;
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(p);
    res.setHeader('Api-Version', MAX_API_VERSION);
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Ostype', 'linux');
    res.setHeader('Server', `Docker/berth (linux)`);
    try {
      if (m) {
        version = m[1]!;
        p = m[2]!;
        if (compareVersions(version, MAX_API_VERSION) > 0) {
          throw new ApiError(400, `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
        }
        if (compareVersions(version, MIN_API_VERSION) < 0) {
          throw new ApiError(
            400,
            `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
          );
        }
      }
      const method = raw.method ?? 'GET';
      // dockerd's debug line for every request
      this.o.log('debug', `Calling ${method} ${url.pathname}`);
      const hit = this.o.router.match(method, p);
      if (hit === undefined) throw new ApiError(404, `page not found`);
      if (hit === 'method') throw new ApiError(405, `method not allowed`);
      const req: ApiRequest = { raw, method, path: p, params: hit.params, query: url.searchParams, apiVersion: version };
      await hit.handler(req, res);
    } catch (e) {
      this.sendError(raw, res, e);
    }
  }

  private sendError(raw: IncomingMessage, res: ServerResponse, e: unknown): void {
    const status = e instanceof ApiError ? e.status : 500;
    const message = errorMessage(e);
    if (status >= 500) this.o.log('error', `${raw.method} ${raw.url}: ${message}`);
    else this.o.log('debug', `${raw.method} ${raw.url}: ${status} ${message}`);
    if (res.headersSent || res.writableEnded) {
      // Mid-stream: the only thing left is to end it.
      res.end();
      return;
    }
    if (status === 304) {
      res.writeHead(304);
      res.end();
      return;
    }
    const body = JSON.stringify({ message }) + '\n';
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}

/**
 * On an upgrade Node stops parsing at the headers: the request body (exec
 * start's JSON) and any stream bytes after it arrive together. Split them by
 * Content-Length, reading more from the socket if the body is not all there.
 */
async function splitUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<{ body: Buffer; rest: Buffer }> {
  const len = Number(req.headers['content-length'] ?? 0) || 0;
  let buf = head;
  while (buf.length < len) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (d: Buffer) => {
        cleanup();
        resolve(d);
      };
      const onEnd = () => {
        cleanup();
        resolve(null);
      };
      const cleanup = () => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onEnd);
      };
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('close', onEnd);
    });
    if (!chunk) break;
    buf = Buffer.concat([buf, chunk]);
  }
  socket.pause();
  return { body: buf.subarray(0, len), rest: buf.subarray(len) };
}

export function parseHost(host: string): { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number } {
  if (host.startsWith('unix://')) return { kind: 'unix', path: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { kind: 'unix', path: host };
  const m = /^(?:tcp:\/\/)?([^:]*):(\d+)$/.exec(host);
  if (m) return { kind: 'tcp', host: m[1] || '127.0.0.1', port: Number(m[2]) };
  throw new Error(`invalid host: ${host}: use unix:///path/to/socket or tcp://host:port`);
}
