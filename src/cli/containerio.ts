// Streams of an attached container or exec session: raw terminal, detach keys, resize, signal
// proxying. Shared by run, start -a, attach and exec.
import { constants as osConstants } from 'node:os';
import type { Ctx } from './command.js';
import type { Hijacked } from './client.js';
import { Demuxer } from './client.js';
import { StatusError } from './flags.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** term.ToBytes: `ctrl-p,ctrl-q` → [16, 17]. */
export function parseDetachKeys(keys: string): number[] {
  const out: number[] = [];
  for (const raw of keys.split(',')) {
    const k = raw.trim();
    if (k.length > 1 && !k.startsWith('ctrl-')) throw new StatusError(`Invalid detach keys (${keys}) provided`, 125);
    if (k.startsWith('ctrl-')) {
      const c = k.slice(5);
      if (c.length !== 1) throw new StatusError(`Invalid detach keys (${keys}) provided`, 125);
      const code = c.toLowerCase().charCodeAt(0);
      if (code >= 97 && code <= 122) out.push(code - 96);
      else if (c === '@') out.push(0);
      else if (c === '[') out.push(27);
      else if (c === '\\') out.push(28);
      else if (c === ']') out.push(29);
      else if (c === '^') out.push(30);
      else if (c === '_') out.push(31);
      else throw new StatusError(`Invalid detach keys (${keys}) provided`, 125);
    } else if (k.length === 1) out.push(k.charCodeAt(0));
  }
  return out;
}

export interface StreamOptions {
  tty: boolean;
  attachStdin: boolean;
  detachKeys?: string;
}

export interface StreamResult {
  detached: boolean;
}

/**
 * Pumps the hijacked connection: output to ctx.stdout/stderr (demultiplexed unless TTY),
 * ctx.stdin to the connection. Resolves when the output ends or the user detaches.
 */
export function pumpStreams(ctx: Ctx, conn: Hijacked, opts: StreamOptions): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const { socket } = conn;
    let done = false;
    const restore = setRawTerminal(ctx, opts.tty && opts.attachStdin);
    const demux = opts.tty ? undefined : new Demuxer(ctx.stdout, ctx.stderr);
    const onOut = (c: Buffer) => (demux ? demux.push(c) : ctx.stdout.write(c));
    const finish = (detached: boolean, err?: Error) => {
      if (done) return;
      done = true;
      restore();
      if (opts.attachStdin) {
        ctx.stdin.off('data', onIn);
        ctx.stdin.off('end', onInEnd);
        ctx.stdin.pause();
      }
      if (err) reject(err);
      else resolve({ detached });
    };
    const keys = opts.attachStdin ? parseDetachKeys(opts.detachKeys || DEFAULT_DETACH_KEYS) : [];
    let matched = 0;
    const onIn = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (opts.tty && keys.length) {
        // hold back a partial detach sequence until we know whether it completes
        const pending: number[] = [];
        for (const b of buf) {
          if (b === keys[matched]) {
            matched++;
            if (matched === keys.length) {
              socket.destroy();
              finish(true);
              return;
            }
            continue;
          }
          if (matched > 0) pending.push(...keys.slice(0, matched));
          matched = 0;
          pending.push(b);
        }
        if (pending.length) socket.write(Buffer.from(pending));
        return;
      }
      socket.write(buf);
    };
    const onInEnd = () => {
      if (!socket.destroyed) socket.end();
    };
    if (conn.head.length) onOut(conn.head);
    socket.on('data', onOut);
    socket.on('end', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('error', (e) => finish(false, e));
    if (opts.attachStdin) {
      ctx.stdin.on('data', onIn);
      ctx.stdin.on('end', onInEnd);
      ctx.stdin.resume();
    }
    socket.resume();
  });
}

function setRawTerminal(ctx: Ctx, want: boolean): () => void {
  if (!want || !ctx.stdin.isTTY || typeof ctx.stdin.setRawMode !== 'function') return () => {};
  ctx.stdin.setRawMode(true);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    ctx.stdin.setRawMode?.(false);
  };
  process.once('exit', restore);
  return restore;
}

/** Sends the terminal size now and on every SIGWINCH; returns the unsubscribe function. */
export function monitorTtySize(ctx: Ctx, resizePath: string): () => void {
  const out = ctx.stdout;
  if (!out.isTTY) return () => {};
  const send = () => {
    const h = out.rows ?? 0;
    const w = out.columns ?? 0;
    if (!h || !w) return;
    ctx.client.post(resizePath, { h, w }).catch(() => {
      // the process may not have started yet or already exited; docker ignores this too
    });
  };
  send();
  process.on('SIGWINCH', send);
  return () => process.off('SIGWINCH', send);
}

const PROXIED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Forwards signals this process receives to the container (docker's --sig-proxy). */
export function proxySignals(ctx: Ctx, id: string): () => void {
  const handlers = PROXIED.map((sig) => {
    const h = () => {
      const num = (osConstants.signals as Record<string, number>)[sig];
      ctx.client.post(`/containers/${encodeURIComponent(id)}/kill`, { signal: String(num) }).catch((e) => {
        ctx.stderr.write(`error sending signal: ${(e as Error).message}\n`);
      });
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
