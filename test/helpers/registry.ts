import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

/** A free TCP port on 127.0.0.1 (released again before use; good enough for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Debian's docker-registry (CNCF distribution) on 127.0.0.1:<free port>, storage and
 * config in `dir`; with `users` it requires htpasswd basic auth.
 */
export class TestRegistry {
  proc?: ChildProcess;
  port = 0;
  log = '';

  constructor(
    readonly dir: string,
    readonly users: Record<string, string> = {},
    /** Listen address (127.0.0.1 unless a test made another) and TLS files (with clientCa, client certificates are required). */
    readonly opts: { addr?: string; tls?: { cert: string; key: string; clientCa?: string } } = {},
  ) {}

  get addr(): string {
    return this.opts.addr ?? '127.0.0.1';
  }

  get host(): string {
    return `${this.addr}:${this.port}`;
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    this.port = await freePort();
    let auth = '';
    if (Object.keys(this.users).length) {
      const file = path.join(this.dir, 'htpasswd');
      const lines = Object.entries(this.users).map(([u, p]) => execFileSync('/usr/bin/htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim());
      fs.writeFileSync(file, lines.join('\n') + '\n');
      auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${file}\n`;
    }
    const t = this.opts.tls;
    const tls = t ? `  tls:\n    certificate: ${t.cert}\n    key: ${t.key}\n${t.clientCa ? `    clientcas:\n      - ${t.clientCa}\n` : ''}` : '';
    const config = path.join(this.dir, 'config.yml');
    fs.writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(this.dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${this.addr}:${this.port}\n${tls}${auth}`,
    );
    this.proc = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-20_000);
    };
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`docker-registry exited: ${this.log}`);
      const status = await new Promise<number>((resolve) => {
        const get = t ? https.get : http.get;
        // Readiness only: any TLS answer (even a refused client certificate) means it listens.
        const req = get({ host: this.addr, port: this.port, path: '/v2/', timeout: 500, rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(t && e.code !== 'ECONNREFUSED' ? 200 : 0));
        req.on('timeout', () => req.destroy());
      });
      if (status === 200 || status === 401) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`docker-registry did not answer: ${this.log}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}
