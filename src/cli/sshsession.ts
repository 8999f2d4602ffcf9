// The client half of `build --ssh` against a daemon on another host (the daemon half and the
// protocol: src/daemon/services/build/ssh-sessions.ts). The session stays open while the build
// runs; each open request berthd sends is answered with a new hijacked connection piped to the
// local agent socket of that id.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { ApiClient } from './client.js';
import { StatusError } from './flags.js';

export interface SshSession {
  id: string;
  close(): void;
}

export async function openSshSession(client: ApiClient, sockets: Record<string, string>, warn: (msg: string) => void): Promise<SshSession> {
  const id = randomBytes(12).toString('hex');
  const ids = Object.keys(sockets);
  const control = await client.hijack('POST', '/build/ssh-session', { query: { session: id, ids: ids.join(',') } });
  const conn = control.socket;
  const answers = new Set<net.Socket>();
  let buf = control.head.toString('utf8');
  let ready: (v: void) => void;
  let failed: (e: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  const answer = (connId: string, fid: string) => {
    const local = net.connect(sockets[fid] ?? '');
    answers.add(local);
    local.on('close', () => answers.delete(local));
    local.once('error', (e) => {
      warn(`ssh agent ${fid}: ${e.message}`);
      local.destroy();
    });
    client.hijack('POST', `/build/ssh-session/${id}/${connId}`).then(
      (h) => {
        answers.add(h.socket);
        if (h.head.length) local.write(h.head);
        h.socket.pipe(local);
        local.pipe(h.socket);
        h.socket.resume();
        const end = () => {
          h.socket.destroy();
          local.destroy();
          answers.delete(h.socket);
        };
        h.socket.on('error', end);
        h.socket.on('close', end);
        local.on('close', end);
      },
      (e: Error) => {
        warn(`ssh agent ${fid}: ${e.message}`);
        local.destroy();
      },
    );
  };
  const line = (text: string) => {
    if (!text.trim()) return;
    let m: { ready?: boolean; error?: string; open?: string; id?: string };
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.ready) ready();
    else if (m.error) failed(new StatusError(`ssh session: ${m.error}`, 1));
    else if (m.open && m.id) answer(m.open, m.id);
  };
  const drain = () => {
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      line(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
  conn.setEncoding('utf8');
  conn.on('data', (c: string) => {
    buf += c;
    drain();
  });
  conn.on('close', () => failed(new StatusError('ssh session: the daemon closed the session before it was ready', 1)));
  conn.on('error', () => conn.destroy());
  conn.resume();
  drain();
  try {
    await started;
  } catch (e) {
    conn.destroy();
    throw e;
  }
  return {
    id,
    close() {
      conn.destroy();
      for (const a of answers) a.destroy();
    },
  };
}
