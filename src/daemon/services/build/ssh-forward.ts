// `RUN --mount=type=ssh`: the step gets a socket of its own that forwards every connection to
// the client's SSH agent. berth's CLI and berthd share a host in the supported case, so the
// CLI names the agent's socket path (X-Berth-Build-Ssh) and berthd, which runs as root, connects
// to it; a private socket per step lets the mount carry BuildKit's uid/gid/mode options without
// touching the user's socket. A client on another host forwards through an ssh session instead
// (ssh-sessions.ts), whose sockets the builder then uses the same way.
import net from 'node:net';
import { promises as fsp } from 'node:fs';

export interface SocketOwner {
  mode: number;
  uid: number;
  gid: number;
}

/** Listens on `listenPath`, piping each connection to `agentPath`; returns the closer. */
export async function forwardSocket(agentPath: string, listenPath: string, owner: SocketOwner): Promise<() => Promise<void>> {
  const conns = new Set<net.Socket>();
  const server = net.createServer((client) => {
    conns.add(client);
    const agent = net.connect(agentPath);
    conns.add(agent);
    client.pipe(agent);
    agent.pipe(client);
    const end = () => {
      client.destroy();
      agent.destroy();
      conns.delete(client);
      conns.delete(agent);
    };
    client.on('error', end);
    agent.on('error', end);
    client.on('close', end);
    agent.on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await fsp.chmod(listenPath, owner.mode);
  await fsp.chown(listenPath, owner.uid, owner.gid);
  return async () => {
    for (const c of conns) c.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/** Checks the agent socket a client named before a build starts, so a typo fails early. */
export async function checkAgentSocket(id: string, p: string): Promise<void> {
  const st = await fsp.stat(p).catch(() => undefined);
  if (!st?.isSocket()) throw new Error(`ssh ${id}: ${p} is not a socket on the daemon's host: name a socket on this host, or reach berthd over tcp:// so berth build --ssh forwards the agent through a session`);
}
