import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * Drives an OCI runtime (runc-compatible command line) through conmon.
 * One conmon per container (and per exec session) holds the stdio, writes the
 * log and the exit file, so containers outlive berthd.
 *
 * conmon's handshake (as podman drives it): fd 3 (_OCI_SYNCPIPE) yields
 * `{"data": pid}` once the runtime created the container, or a negative value
 * with the runtime's error in "message"; for exec sessions a second line carries
 * the exit code. fd 4 (_OCI_STARTPIPE) is read once before conmon does anything,
 * and for attached exec sessions once more after the attach socket is ready
 * (announced on fd 5, _OCI_ATTACHPIPE).
 */
export interface RuntimePaths {
  runtimePath: string;
  runtimeArgs: string[];
  conmonPath: string;
  runcRoot: string;
  exitDir: string;
  execExitDir: string;
  socketDir: string;
}

export interface CreateOptions {
  id: string;
  name: string;
  bundle: string;
  /** conmon's k8s-file log; empty for no log (the `none` driver). */
  logPath: string;
  /** conmon replaces the log with an empty file past this many bytes (docker's max-file=1 truncation). */
  logSizeMax?: number;
  terminal: boolean;
  stdin: boolean;
  /** Keep the container's stdin open when an attached client goes away (docker's StdinOnce=false). */
  leaveStdinOpen: boolean;
  /** Short, unique key for the attach socket directory (sun_path is 108 bytes). */
  socketKey: string;
}

export interface ExecOptions {
  containerId: string;
  sessionId: string;
  /** Directory conmon may write its attach socket and fifos into. */
  bundle: string;
  processSpecPath: string;
  terminal: boolean;
  stdin: boolean;
  attach: boolean;
  socketKey: string;
}

export class RuntimeError extends Error {
  override name = 'RuntimeError';
}

export class Runtime {
  constructor(readonly paths: RuntimePaths) {}

  private runtimeFlags(): string[] {
    return [`--root=${this.paths.runcRoot}`, ...this.paths.runtimeArgs];
  }

  /** Run the runtime binary; resolves with stdout, rejects with its stderr text. */
  run(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        this.paths.runtimePath,
        [...this.runtimeFlags(), ...args],
        { maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (err) reject(new RuntimeError(runtimeMessage(stderr) || err.message));
          else resolve(stdout);
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  attachSocketPath(socketKey: string): string {
    return path.join(this.paths.socketDir, socketKey, 'attach');
  }

  exitFile(id: string): string {
    return path.join(this.paths.exitDir, id);
  }

  private conmonArgs(o: { id: string; uuid: string; bundle: string; name: string; pidFile: string; exitDir: string; log: string; terminal: boolean; stdin: boolean }): string[] {
    const args = [
      '--api-version', '1',
      '-c', o.id,
      '-u', o.uuid,
      '-r', this.paths.runtimePath,
      '-b', o.bundle,
      '-p', o.pidFile,
      '-n', o.name,
      '--exit-dir', o.exitDir,
      '--socket-dir-path', this.paths.socketDir,
      '-l', o.log,
      '--log-level', 'error',
      '--no-new-keyring',
    ];
    for (const a of this.runtimeFlags()) args.push('--runtime-arg', a);
    if (o.terminal) args.push('-t');
    if (o.stdin) args.push('-i');
    return args;
  }

  /**
   * Starts conmon, which runs `runtime create`. Resolves with the container's
   * pid once created (not yet started), and conmon's pid.
   */
  async create(o: CreateOptions): Promise<{ pid: number; conmonPid: number }> {
    const conmonPidFile = path.join(o.bundle, 'conmon.pid');
    const args = this.conmonArgs({
      id: o.id,
      uuid: o.socketKey,
      bundle: o.bundle,
      name: o.name,
      pidFile: path.join(o.bundle, 'pidfile'),
      exitDir: this.paths.exitDir,
      log: o.logPath ? `k8s-file:${o.logPath}` : 'none',
      terminal: o.terminal,
      stdin: o.stdin,
    });
    args.push('--conmon-pidfile', conmonPidFile);
    if (o.logPath && o.logSizeMax) args.push('--log-size-max', String(o.logSizeMax));
    if (o.stdin && o.leaveStdinOpen) args.push('--leave-stdin-open');
    const child = spawn(this.paths.conmonPath, args, {
      // conmon daemonizes and keeps inherited fds: /dev/null for stdio so it
      // never gets SIGPIPE when berthd goes away.
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      detached: true,
    });
    child.unref();
    const sync = child.stdio[3] as Readable;
    const lines = syncLines(sync);
    const first = await lines.next(30_000).catch((e: Error) => {
      throw new RuntimeError(`conmon failed: ${e.message}`);
    });
    sync.destroy();
    if (first.data < 0) throw new RuntimeError(runtimeMessage(first.message ?? '') || 'container create failed');
    const conmonPid = Number(await fs.promises.readFile(conmonPidFile, 'utf8').catch(() => '0'));
    return { pid: first.data, conmonPid };
  }

  start(id: string): Promise<string> {
    return this.run(['start', id]);
  }

  kill(id: string, signal: string | number, all = false): Promise<string> {
    return this.run(['kill', ...(all ? ['--all'] : []), id, String(signal)]);
  }

  pause(id: string): Promise<string> {
    return this.run(['pause', id]);
  }

  resume(id: string): Promise<string> {
    return this.run(['resume', id]);
  }

  async delete(id: string, force = false): Promise<void> {
    try {
      await this.run(['delete', ...(force ? ['--force'] : []), id]);
    } catch (e) {
      // Already gone (e.g. after a reboot wiped the runtime state) is the goal.
      if (!/does not exist|not found|no such file/i.test((e as Error).message)) throw e;
    }
  }

  async state(id: string): Promise<{ status: string; pid: number } | undefined> {
    try {
      const out = await this.run(['state', id]);
      const s = JSON.parse(out) as { status: string; pid: number };
      return s;
    } catch {
      return undefined;
    }
  }

  async ps(id: string): Promise<number[]> {
    const out = await this.run(['ps', '--format', 'json', id]);
    const pids = JSON.parse(out) as number[] | null;
    return pids ?? [];
  }

  /**
   * Starts an exec session under its own conmon. With `attach`, `onAttachReady`
   * is called once the attach socket exists; the session only starts running
   * after `go()` is called (so no output is lost before the client connects).
   * Resolves `started` with the pid and `exited` with the exit code.
   */
  exec(o: ExecOptions): ExecHandle {
    const args = this.conmonArgs({
      id: o.containerId,
      uuid: o.socketKey,
      bundle: o.bundle,
      name: o.containerId,
      pidFile: path.join(o.bundle, 'pid'),
      exitDir: this.paths.execExitDir,
      log: 'none',
      terminal: o.terminal,
      stdin: o.stdin,
    });
    args.push('-e', '--exec-process-spec', o.processSpecPath);
    if (o.attach) args.push('--exec-attach');
    const child = spawn(this.paths.conmonPath, args, {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', ...(o.attach ? { _OCI_ATTACHPIPE: '5' } : {}) },
      detached: true,
    });
    child.unref();
    const stdio = child.stdio as unknown as Array<Readable & Writable>;
    const startPipe = stdio[4]!;
    const sync = syncLines(stdio[3]!);
    startPipe.write(Buffer.from([0]));
    let attachReady: Promise<void> = Promise.resolve();
    if (o.attach) {
      const ap = syncLines(stdio[5]!);
      attachReady = ap.next(30_000).then(() => undefined);
    } else {
      stdio[5]!.destroy();
    }
    const started = sync.next(30_000).then((m) => {
      if (m.data < 0) throw new RuntimeError(runtimeMessage(m.message ?? '') || 'exec failed');
      return m.data;
    });
    const exited = started.then(() => sync.next(0)).then((m) => m.data);
    const cleanup = () => {
      startPipe.destroy();
      (child.stdio[3] as Readable).destroy();
      stdio[5]!.destroy();
    };
    exited.then(cleanup, cleanup);
    return {
      attachReady,
      go: () => {
        if (o.attach) startPipe.write(Buffer.from([0]));
      },
      started,
      exited,
    };
  }

  /**
   * Asks a container's conmon to reopen its log file (conmon's control fifo,
   * message type 2): after a rotation renamed the file, it writes a new one.
   */
  async reopenLog(bundle: string): Promise<void> {
    const fd = await fs.promises.open(path.join(bundle, 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      await fd.write('2 0 0\n');
    } finally {
      await fd.close();
    }
  }

  /** Sends a terminal resize to a conmon (container or exec session). */
  async resize(bundle: string, height: number, width: number): Promise<void> {
    const fd = await fs.promises.open(path.join(bundle, 'winsz'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      await fd.write(`${height} ${width}\n`);
    } finally {
      await fd.close();
    }
  }
}

export interface ExecHandle {
  attachReady: Promise<void>;
  go: () => void;
  started: Promise<number>;
  exited: Promise<number>;
}

interface SyncMessage {
  data: number;
  message?: string;
}

/** Reads newline-delimited JSON messages from a conmon pipe. */
function syncLines(stream: Readable) {
  let buf = '';
  const queue: SyncMessage[] = [];
  const waiters: Array<{ resolve: (m: SyncMessage) => void; reject: (e: Error) => void }> = [];
  let ended = false;
  const flush = () => {
    while (queue.length && waiters.length) waiters.shift()!.resolve(queue.shift()!);
    if (ended) while (waiters.length) waiters.shift()!.reject(new Error('conmon closed its pipe without an answer'));
  };
  stream.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line) continue;
      try {
        queue.push(JSON.parse(line) as SyncMessage);
      } catch {
        queue.push({ data: -1, message: line });
      }
    }
    flush();
  });
  const onEnd = () => {
    ended = true;
    flush();
  };
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  stream.on('error', onEnd);
  return {
    next(timeoutMs: number): Promise<SyncMessage> {
      return new Promise((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const w = {
          resolve: (m: SyncMessage) => {
            if (timer) clearTimeout(timer);
            resolve(m);
          },
          reject: (e: Error) => {
            if (timer) clearTimeout(timer);
            reject(e);
          },
        };
        if (timeoutMs > 0) {
          timer = setTimeout(() => {
            const idx = waiters.indexOf(w);
            if (idx >= 0) waiters.splice(idx, 1);
            reject(new Error('timed out waiting for conmon'));
          }, timeoutMs);
        }
        waiters.push(w);
        flush();
      });
    },
  };
}

/**
 * runc prints JSON log lines or `time=… level=error msg="…"`; users want the
 * message only, as dockerd shows it.
 */
export function runtimeMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const msgs: string[] = [];
  for (const l of lines) {
    if (l.startsWith('{')) {
      try {
        const j = JSON.parse(l) as { msg?: string; level?: string };
        if (j.msg && (j.level === 'error' || j.level === 'fatal' || !j.level)) msgs.push(j.msg);
        continue;
      } catch {
        /* not JSON: fall through */
      }
    }
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(l);
    if (m) msgs.push(m[1]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
    else msgs.push(l);
  }
  return msgs.join(': ');
}
