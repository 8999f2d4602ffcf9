import type { Duplex } from 'node:stream';
import { SeqpacketSocket } from 'node-unix-socket';
import { frame } from '../../common/stdcopy.js';

export interface AttachStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** With a TTY the stream is raw; without, docker's 8-byte framing. */
  tty: boolean;
  /** Detach key sequence bytes (default ctrl-p ctrl-q), only with stdin. */
  detachKeys?: Buffer;
}

// conmon reads the attach socket with an 8 KiB buffer; a larger SEQPACKET
// message would be truncated.
const CONMON_BUF = 8192;
// conmon's stream tags on the attach socket.
const CONMON_STDOUT = 2;
const CONMON_STDERR = 3;

/**
 * Connects a hijacked client connection to conmon's attach socket. Resolves
 * when either side is done: the container's stdio closed (it exited) or the
 * client went away / detached.
 */
export function pipeAttach(
  client: Duplex,
  socketPath: string,
  o: AttachStreams,
  onConnected?: () => void,
): Promise<'exited' | 'detached' | 'client-gone'> {
  return new Promise((resolve, reject) => {
    const sock = new SeqpacketSocket();
    sock.setInternalReadBufferSize(CONMON_BUF + 1);
    let done = false;
    const finish = (why: 'exited' | 'detached' | 'client-gone') => {
      if (done) return;
      done = true;
      client.off('data', onClientData);
      client.off('end', onClientEnd);
      client.off('close', onClientClose);
      // Closing inside the library's own I/O callback (where 'end' fires) makes
      // it fail with EBADF: close on the next turn instead.
      setImmediate(() => sock.destroy());
      resolve(why);
    };
    const onClientData = (d: Buffer) => {
      if (!o.stdin) return;
      let data = d;
      if (o.detachKeys && o.tty) {
        const idx = data.indexOf(o.detachKeys);
        if (idx >= 0) {
          if (idx > 0) writeChunks(sock, data.subarray(0, idx));
          finish('detached');
          return;
        }
      }
      writeChunks(sock, data);
    };
    const onClientEnd = () => {
      // The client closed its stdin: tell conmon (it closes the container's
      // stdin unless the container keeps it open).
      if (o.stdin) sock.end();
    };
    const onClientClose = () => finish('client-gone');
    try {
      sock.connect(socketPath, () => {
        client.on('data', onClientData);
        client.on('end', onClientEnd);
        client.on('close', onClientClose);
        client.resume();
        onConnected?.();
      });
    } catch (e) {
      reject(e);
      return;
    }
    sock.on('data', (b: Buffer) => {
      if (b.length < 1) return;
      const tag = b[0];
      const payload = b.subarray(1);
      if (tag === CONMON_STDOUT && o.stdout) client.write(o.tty ? payload : frame(1, payload));
      else if (tag === CONMON_STDERR && o.stderr) client.write(o.tty ? payload : frame(2, payload));
    });
    sock.on('end', () => finish('exited'));
    sock.on('close', () => finish('exited'));
    sock.on('error', (e: Error) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
  });
}

function writeChunks(sock: SeqpacketSocket, data: Buffer): void {
  for (let i = 0; i < data.length; i += CONMON_BUF) sock.write(data.subarray(i, i + CONMON_BUF));
}

/** Parses docker's detach-keys syntax: "ctrl-p,ctrl-q", "a,ctrl-@". */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const p = part.trim();
    if (p.length === 1) out.push(p.charCodeAt(0));
    else if (/^ctrl-[a-z@[\\\]^_]$/i.test(p)) {
      const ch = p.slice(5).toLowerCase();
      const code = ch >= 'a' && ch <= 'z' ? ch.charCodeAt(0) - 96 : ({ '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 } as Record<string, number>)[ch]!;
      out.push(code);
    } else throw new Error(`Invalid detach keys (${spec}) provided`);
  }
  return Buffer.from(out);
}
