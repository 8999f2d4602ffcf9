/**
 * Sockets bound inside another network namespace, for a daemon that cannot
 * setns(2) itself: a helper node process entered into the namespace binds
 * them and passes them back over the IPC channel (fd passing). The helper is
 * CommonJS and starts without NODE_EXTRA_CA_CERTS: no ESM loader and no
 * certificate parsing, which were most of its start-up (and so of the start
 * of every container that needs one).
 */
import { spawn } from 'node:child_process';
import type dgram from 'node:dgram';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { NSENTER } from './netns.js';

const HELPER = fileURLToPath(new URL('./netns-bind-helper.cjs', import.meta.url));

/** berthd's environment minus what only costs the helper start-up time. */
function helperEnv(): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _certs, NODE_OPTIONS: _opts, ...env } = process.env;
  return env;
}

export interface NetnsSockets {
  udp: dgram.Socket;
  tcp: net.Server;
}

/** A UDP socket and a TCP server on host:port inside the namespace file `netns`. */
export function bindInNetns(netns: string, host: string, port: number, timeoutMs = 10_000): Promise<NetnsSockets> {
  return new Promise((resolve, reject) => {
    const child = spawn(NSENTER, [`--net=${netns}`, process.execPath, HELPER, host, String(port)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: helperEnv() });
    let err = '';
    let udp: dgram.Socket | undefined;
    let tcp: net.Server | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    let done = false;
    child.on('message', (m: { kind?: string; error?: string }, handle: unknown) => {
      if (m.error) err = m.error;
      else if (m.kind === 'udp') udp = handle as dgram.Socket;
      else if (m.kind === 'tcp') tcp = handle as net.Server;
      if (udp && tcp && !done) {
        // The timer stays: a helper that does not exit now would share the sockets, so it gets killed.
        done = true;
        resolve({ udp, tcp });
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      if (!done) reject(e);
      done = true;
    });
    // 'close' comes after the IPC channel is drained: every handle sent has arrived by then.
    child.on('close', (code) => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      udp?.close();
      tcp?.close();
      reject(new Error(`binding ${host}:${port} in ${netns}: ${err.trim() || `helper exited with ${code}`}`));
    });
  });
}
