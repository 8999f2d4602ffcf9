/**
 * Holds a host port for a published container port, as docker-proxy does:
 * the socket is bound (never accepting: iptables DNAT steers the traffic
 * before it could arrive) so no other program, nor another berthd, can take it.
 */
import net from 'node:net';
import dgram from 'node:dgram';

export interface Reservation {
  hostIp: string;
  hostPort: number;
  proto: 'tcp' | 'udp' | 'sctp';
  close(): void;
}

export function reservePort(hostIp: string, port: number, proto: 'tcp' | 'udp' | 'sctp'): Promise<Reservation> {
  const host = hostIp || '0.0.0.0';
  if (proto === 'udp') {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
      s.once('error', reject);
      s.bind({ address: host, port, exclusive: true }, () => {
        s.removeListener('error', reject);
        s.on('error', () => undefined);
        s.unref();
        resolve({ hostIp: host, hostPort: s.address().port, proto, close: () => s.close() });
      });
    });
  }
  // sctp has no socket API in node: the port is only checked against berthd's own table.
  if (proto === 'sctp') return Promise.resolve({ hostIp: host, hostPort: port, proto, close: () => undefined });
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    // A tiny backlog and paused handles: nothing is ever accepted here.
    s.listen({ host, port, exclusive: true, backlog: 1 }, () => {
      s.removeListener('error', reject);
      s.on('error', () => undefined);
      s.on('connection', (c) => c.destroy());
      s.unref();
      resolve({ hostIp: host, hostPort: (s.address() as net.AddressInfo).port, proto, close: () => s.close() });
    });
  });
}
