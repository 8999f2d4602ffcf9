/**
 * The embedded DNS server of user-defined networks. One listener per network,
 * on the network's gateway address (only containers on that bridge reach
 * it); inside each container, 127.0.0.11:53 is DNAT-ed to it. Names of
 * containers that share a network with the asking one are answered here;
 * everything else goes to the upstream servers (the host's, or --dns).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';

export interface DnsAnswerSource {
  /**
   * Addresses for `name` as the container at `srcIp` (asking on the network
   * whose gateway is `gateway`) sees them; undefined: not a container name.
   */
  lookup(gateway: string, srcIp: string, name: string): string[] | undefined;
  /** Upstream servers for the container at `srcIp` (its --dns, or the host's). */
  upstream(gateway: string, srcIp: string): string[];
}

interface Listener {
  udp: dgram.Socket;
  tcp: net.Server;
  port: number;
}

const TTL = 600;

export class EmbeddedDns {
  private listeners = new Map<string, Listener>();
  private rotation = 0;

  constructor(
    private source: DnsAnswerSource,
    private log: (level: string, msg: string) => void,
  ) {}

  portOf(gateway: string): number | undefined {
    return this.listeners.get(gateway)?.port;
  }

  /** Listens on gateway:port (port 0: any; a taken preferred port falls back to any). */
  async listen(gateway: string, preferredPort = 0): Promise<number> {
    const have = this.listeners.get(gateway);
    if (have) return have.port;
    let l: Listener;
    try {
      l = await this.bind(gateway, preferredPort);
    } catch (e) {
      if (!preferredPort) throw e;
      l = await this.bind(gateway, 0);
    }
    this.listeners.set(gateway, l);
    return l.port;
  }

  private async bind(gateway: string, port: number): Promise<Listener> {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address: gateway, port, exclusive: true }, () => {
        udp.removeListener('error', reject);
        resolve();
      });
    });
    const bound = udp.address().port;
    udp.on('error', (e) => this.log('warn', `dns ${gateway}: ${e.message}`));
    udp.on('message', (msg, rinfo) => {
      void this.answer(gateway, rinfo.address, msg, false).then((out) => {
        if (out) udp.send(out, rinfo.port, rinfo.address);
      });
    });
    const tcp = net.createServer((sock) => this.serveTcp(gateway, sock));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: gateway, port: bound, exclusive: true }, () => {
          tcp.removeListener('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    tcp.on('error', (e) => this.log('warn', `dns ${gateway} (tcp): ${e.message}`));
    udp.unref();
    tcp.unref();
    return { udp, tcp, port: bound };
  }

  private serveTcp(gateway: string, sock: net.Socket): void {
    let buf = Buffer.alloc(0);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.answer(gateway, sock.remoteAddress?.replace(/^::ffff:/, '') ?? '', msg, true).then((out) => {
          if (!out || sock.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(out.length);
          sock.write(Buffer.concat([head, out]));
        });
      }
    });
  }

  close(gateway: string): void {
    const l = this.listeners.get(gateway);
    if (!l) return;
    l.udp.close();
    l.tcp.close();
    this.listeners.delete(gateway);
  }

  closeAll(): void {
    for (const g of [...this.listeners.keys()]) this.close(g);
  }

  private async answer(gateway: string, srcIp: string, msg: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return undefined; // not DNS: nothing to say
    }
    const question = q.questions?.[0];
    if (!question) return undefined;
    const name = question.name.replace(/\.$/, '').toLowerCase();
    const addrs = this.source.lookup(gateway, srcIp, name);
    if (addrs) {
      const answers: dnsPacket.Answer[] = [];
      if (question.type === 'A' || (question.type as string) === 'ANY') {
        // Every address, in a different order each time: a poor man's load balancing, as docker's.
        const start = addrs.length ? this.rotation++ % addrs.length : 0;
        const rotated = [...addrs.slice(start), ...addrs.slice(0, start)];
        for (const ip of rotated) answers.push({ type: 'A', name: question.name, class: 'IN', ttl: TTL, data: ip });
      }
      return dnsPacket.encode({
        id: q.id,
        type: 'response',
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER,
        questions: q.questions,
        answers,
      });
    }
    return this.forward(gateway, srcIp, msg, q, tcp);
  }

  /** Asks the upstream servers in turn; SERVFAIL when none answers. */
  private async forward(gateway: string, srcIp: string, msg: Buffer, q: dnsPacket.Packet, tcp: boolean): Promise<Buffer> {
    for (const server of this.source.upstream(gateway, srcIp)) {
      const r = await (tcp ? queryTcp(server, msg) : queryUdp(server, msg)).catch(() => undefined);
      if (r) return r;
    }
    return dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 2, questions: q.questions });
  }
}

function queryUdp(server: string, msg: Buffer, timeoutMs = 4000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(net.isIPv6(server) ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error('timeout'));
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(t);
      s.close();
      reject(e);
    });
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, 53, server);
  });
}

function queryTcp(server: string, msg: Buffer, timeoutMs = 4000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: server, port: 53 });
    let buf = Buffer.alloc(0);
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error('timeout')));
    sock.on('error', reject);
    sock.on('connect', () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([head, msg]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
  });
}
