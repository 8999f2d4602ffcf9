// Container output for `up` (attached) and `logs`: the attach or logs stream of each container,
// demultiplexed and cut into lines that the LogPrinter prefixes.
import type { Writable } from 'node:stream';
import type { ApiClient } from '../../cli/client.js';
import { Demuxer } from '../../cli/client.js';
import { enc, inspectContainer } from './api.js';
import type { LogPrinter, LineSplitter } from './logprefix.js';

function feed(tty: boolean, out: LineSplitter, err: LineSplitter): (c: Buffer) => void {
  if (tty) return (c) => out.write(c);
  const d = new Demuxer(out as unknown as Writable, err as unknown as Writable);
  return (c) => d.push(c);
}

/** attaches to a container's stdout/stderr (before it starts, so no line is lost); resolves when the stream ends */
export async function attachOutput(api: ApiClient, id: string, name: string, printer: LogPrinter): Promise<{ done: Promise<void> }> {
  const info = await inspectContainer(api, id);
  const tty = !!info.Config?.Tty;
  const conn = await api.hijack('POST', `/containers/${enc(id)}/attach`, { query: { stream: 1, stdout: 1, stderr: 1 } });
  const out = printer.stream(name);
  const err = printer.stream(name);
  const push = feed(tty, out, err);
  const done = new Promise<void>((resolve) => {
    if (conn.head.length) push(conn.head);
    conn.socket.on('data', push);
    const done = () => {
      out.flush();
      err.flush();
      resolve();
    };
    conn.socket.on('end', done);
    conn.socket.on('close', done);
    conn.socket.on('error', done);
    conn.socket.resume();
  });
  return { done };
}

export interface LogsOptions {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
  since?: string;
  until?: string;
}

/** streams a container's logs through the printer; resolves when the stream ends */
export async function streamLogs(api: ApiClient, id: string, name: string, printer: LogPrinter, o: LogsOptions): Promise<void> {
  const info = await inspectContainer(api, id);
  const tty = !!info.Config?.Tty;
  const res = await api.stream('GET', `/containers/${enc(id)}/logs`, {
    query: { stdout: 1, stderr: 1, follow: o.follow ? 1 : undefined, tail: o.tail || 'all', timestamps: o.timestamps ? 1 : undefined, since: o.since, until: o.until },
  });
  const out = printer.stream(name);
  const err = printer.stream(name);
  const push = feed(tty, out, err);
  await new Promise<void>((resolve, reject) => {
    res.on('data', push);
    res.on('end', resolve);
    res.on('close', resolve);
    res.on('error', reject);
  });
  out.flush();
  err.flush();
}

/** POST /containers/{id}/wait; resolves to the exit code */
export async function waitExit(api: ApiClient, id: string, condition = 'not-running'): Promise<number> {
  const r = await api.post<{ StatusCode?: number }>(`/containers/${enc(id)}/wait`, { condition });
  return Number(r?.StatusCode ?? 0);
}
