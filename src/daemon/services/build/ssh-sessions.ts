// `berth build --ssh` against a daemon on another host (tcp://): the client's agent socket is
// not a path berthd can reach, so the CLI opens a session (a hijacked connection) before the
// build. For each forwarded id berthd listens on a unix socket of its own; every connection to
// it becomes one request on the session ("open connection N for id X"), which the CLI answers
// with a second hijacked connection that it pipes to its local agent. The rest of the builder
// sees an ordinary agent socket path, as in the same-host case.
//
// One hijacked connection per agent connection keeps the protocol free of a multiplexer: ssh
// makes one or two agent connections per step, and each is a short request/answer exchange.
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { Duplex } from 'node:stream';

/** A pending agent connection waits this long for the client to answer. */
const ANSWER_TIMEOUT_MS = 15_000;

const SESSION_ID = /^[A-Za-z0-9_-]{8,64}$/;
const FORWARD_ID = /^[A-Za-z0-9_.-]{1,64}$/;

interface Session {
  dir: string;
  sockets: Map<string, string>;
  servers: net.Server[];
  pending: Map<string, { conn: net.Socket; timer: NodeJS.Timeout }>;
  live: Set<Duplex>;
  control: Duplex;
}

export class SshSessionError extends Error {}

export class SshSessions {
  private sessions = new Map<string, Session>();

  /** `dir`: where the per-session sockets go (the daemon's private tmp dir). */
  constructor(private dir: string) {}

  /**
   * Registers a session on its control connection; it lasts until that connection closes.
   * Resolves once its sockets listen, so a build sent after the answer finds them.
   */
  async open(id: string, forwardIds: string[], control: Duplex): Promise<void> {
    if (!SESSION_ID.test(id)) throw new SshSessionError(`invalid ssh session id ${JSON.stringify(id)}`);
    if (this.sessions.has(id)) throw new SshSessionError(`ssh session ${id} already exists`);
    if (!forwardIds.length) throw new SshSessionError('an ssh session needs at least one id to forward');
    for (const f of forwardIds) if (!FORWARD_ID.test(f)) throw new SshSessionError(`invalid ssh id ${JSON.stringify(f)}`);
    const dir = path.join(this.dir, `ssh-session-${id}`);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const s: Session = { dir, sockets: new Map(), servers: [], pending: new Map(), live: new Set(), control };
    this.sessions.set(id, s);
    control.on('error', () => control.destroy());
    // the API server allows half-open connections: the client going away shows as 'end' only
    control.on('end', () => void this.close(id));
    control.on('close', () => void this.close(id));
    // nothing is expected from the client on this connection; reading lets its close be seen
    control.resume();
    try {
      for (const [i, fid] of forwardIds.entries()) {
        const sock = path.join(dir, `${i}.sock`);
        const server = net.createServer((conn) => this.request(s, fid, conn));
        s.servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(sock, () => {
            server.off('error', reject);
            resolve();
          });
        });
        await fsp.chmod(sock, 0o600);
        s.sockets.set(fid, sock);
      }
    } catch (e) {
      await this.close(id);
      throw e;
    }
  }

  /** The agent socket paths of a session, by forwarded id. */
  sockets(id: string): Map<string, string> {
    const s = this.sessions.get(id);
    if (!s) throw new SshSessionError(`ssh session ${id} not found: the client must keep its session open while it builds`);
    return new Map(s.sockets);
  }

  /** The client's answer to an open request: its connection to the agent, on `conn`. */
  answer(id: string, connId: string, conn: Duplex): void {
    const s = this.sessions.get(id);
    const p = s?.pending.get(connId);
    if (!s || !p) {
      conn.destroy();
      throw new SshSessionError(`no pending ssh agent connection ${connId} in session ${id}`);
    }
    clearTimeout(p.timer);
    s.pending.delete(connId);
    s.live.add(conn);
    s.live.add(p.conn);
    const end = () => {
      conn.destroy();
      p.conn.destroy();
      s.live.delete(conn);
      s.live.delete(p.conn);
    };
    for (const c of [conn, p.conn]) {
      c.on('error', end);
      c.on('close', end);
    }
    p.conn.pipe(conn);
    conn.pipe(p.conn);
  }

  private request(s: Session, forwardId: string, conn: net.Socket): void {
    const connId = randomBytes(8).toString('hex');
    // the step's ssh sees a closed agent when the client does not answer in time
    const timer = setTimeout(() => {
      s.pending.delete(connId);
      conn.destroy();
    }, ANSWER_TIMEOUT_MS);
    s.pending.set(connId, { conn, timer });
    conn.on('error', () => conn.destroy());
    s.control.write(JSON.stringify({ open: connId, id: forwardId }) + '\n');
  }

  private async close(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    for (const p of s.pending.values()) {
      clearTimeout(p.timer);
      p.conn.destroy();
    }
    for (const c of s.live) c.destroy();
    s.control.destroy();
    await Promise.all(s.servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
    await fsp.rm(s.dir, { recursive: true, force: true });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id)));
  }
}
