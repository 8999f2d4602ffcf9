import fs from 'node:fs';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { badRequest, conflict, noSuchExec, notFound, errorMessage, serverError } from '../errors.js';
import type { Runtime } from '../system/runtime.js';
import type { ContainerService } from './container-service.js';
import { generateId } from './names.js';
import { pipeAttach, parseDetachKeys } from './attach.js';
import { hostCapabilities, resolveUser } from '../system/oci-spec.js';
import { frame, Demuxer } from '../../common/stdcopy.js';

export interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
  Env?: string[] | null;
  Cmd?: string[];
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

interface ExecSession {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  bundle: string;
  /** Resolves when the process has exited. */
  done?: Promise<void>;
  /** Called with the pid once the process runs (health probes time it from there). */
  onStarted?: (pid: number) => void;
}

/**
 * Exec sessions live in memory, as in dockerd. Each runs under its own conmon
 * (so a TTY works and the process survives the API connection).
 */
export class ExecService {
  private sessions = new Map<string, ExecSession>();

  constructor(
    private containers: ContainerService,
    private runtime: Runtime,
    private execRoot: string,
  ) {}

  create(ref: string, body: unknown): { Id: string } {
    if (!body || typeof body !== 'object') throw badRequest('exec configuration cannot be empty');
    const cfg = body as ExecConfig;
    if (!Array.isArray(cfg.Cmd) || cfg.Cmd.length === 0) throw badRequest('No exec command specified');
    const ctr = this.containers.runningContainer(ref);
    const id = generateId();
    this.sessions.set(id, {
      id,
      containerId: ctr.id,
      config: cfg,
      running: false,
      started: false,
      exitCode: null,
      pid: 0,
      bundle: path.join(this.execRoot, id.slice(0, 16)),
    });
    this.containers.trackExec(ctr.id, id, true);
    this.emitExec(ctr.id, 'exec_create', cfg.Cmd, { execID: id });
    return { Id: id };
  }

  /** dockerd's exec events: `exec_create: <cmd>`, `exec_start: <cmd>`, `exec_die` (execID, exitCode). */
  private emitExec(containerId: string, action: string, cmd: string[] | undefined, attrs: Record<string, string>): void {
    // dockerd joins entrypoint and args with a space even when there are no args.
    const text = cmd ? `${action}: ${cmd[0]} ${cmd.slice(1).join(' ')}` : action;
    try {
      this.containers.emitContainerEvent(containerId, text, attrs);
    } catch {
      // The container went away meanwhile: no event to attach it to.
    }
  }

  get(id: string): ExecSession {
    const s = this.sessions.get(id);
    if (!s) throw noSuchExec(id);
    return s;
  }

  inspect(id: string): unknown {
    const s = this.get(id);
    return {
      ID: s.id,
      Running: s.running,
      ExitCode: s.exitCode,
      ProcessConfig: {
        tty: !!s.config.Tty,
        entrypoint: s.config.Cmd![0],
        arguments: s.config.Cmd!.slice(1),
        privileged: !!s.config.Privileged,
        user: s.config.User ?? '',
      },
      OpenStdin: !!s.config.AttachStdin,
      OpenStderr: !!s.config.AttachStderr,
      OpenStdout: !!s.config.AttachStdout,
      CanRemove: false,
      ContainerID: s.containerId,
      DetachKeys: s.config.DetachKeys ?? '',
      Pid: s.pid,
    };
  }

  /**
   * Starts the session. With a client connection the process's stdio is piped
   * to it until the process ends; detached, it returns once started.
   */
  async start(id: string, opts: { detach: boolean; tty?: boolean }, client?: Duplex): Promise<void> {
    const s = this.get(id);
    if (s.started) throw conflict(`Error: Exec command ${id} is already running`);
    const ctr = this.containers.runningContainer(s.containerId);
    s.started = true;
    this.emitExec(s.containerId, 'exec_start', s.config.Cmd, { execID: s.id });
    const spec = JSON.parse(await fs.promises.readFile(path.join(ctr.bundle, 'config.json'), 'utf8')) as {
      process: Record<string, unknown> & { env?: string[]; cwd?: string; user?: unknown; capabilities?: Record<string, string[]> };
    };
    const proc = { ...spec.process };
    const tty = opts.tty ?? !!s.config.Tty;
    proc.terminal = tty;
    proc.args = s.config.Cmd;
    proc.env = mergeEnv(proc.env ?? [], s.config.Env ?? []);
    if (tty && !proc.env.some((e) => e.startsWith('TERM='))) proc.env.push('TERM=xterm');
    if (s.config.WorkingDir) proc.cwd = s.config.WorkingDir;
    if (s.config.User) {
      try {
        const u = await resolveUser(ctr.rootfs, s.config.User);
        proc.user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
      } catch (e) {
        s.started = false;
        throw serverError(errorMessage(e));
      }
    }
    if (s.config.Privileged && proc.capabilities) {
      const all = await hostCapabilities();
      proc.capabilities = { bounding: all, effective: all, permitted: all };
    }
    if (s.config.ConsoleSize) proc.consoleSize = { height: s.config.ConsoleSize[0], width: s.config.ConsoleSize[1] };
    delete proc.rlimits;
    delete proc.oomScoreAdj;
    await fs.promises.mkdir(s.bundle, { recursive: true });
    const specPath = path.join(s.bundle, 'process.json');
    await fs.promises.writeFile(specPath, JSON.stringify(proc));
    const attach = !opts.detach && !!client;
    const handle = this.runtime.exec({
      containerId: s.containerId,
      sessionId: s.id,
      bundle: s.bundle,
      processSpecPath: specPath,
      terminal: tty,
      stdin: !!s.config.AttachStdin && attach,
      attach,
      socketKey: s.id.slice(0, 16),
    });
    s.done = handle.exited.then(
      (code) => {
        s.exitCode = code;
        s.running = false;
        this.emitExec(s.containerId, 'exec_die', undefined, { execID: s.id, exitCode: String(code) });
      },
      () => {
        s.running = false;
      },
    ).finally(() => fs.promises.rm(s.bundle, { recursive: true, force: true }).catch(() => undefined));
    let attached: Promise<unknown> = Promise.resolve();
    if (attach && client) {
      await handle.attachReady;
      attached = pipeAttach(client, this.runtime.attachSocketPath(s.id.slice(0, 16)), {
        stdin: !!s.config.AttachStdin,
        stdout: !!s.config.AttachStdout,
        stderr: !!s.config.AttachStderr,
        tty,
        detachKeys: s.config.AttachStdin ? parseDetachKeys(s.config.DetachKeys || 'ctrl-p,ctrl-q') : undefined,
      }, () => handle.go()); // conmon starts the process only once our end is connected
    }
    try {
      s.pid = await handle.started;
      s.running = true;
      s.onStarted?.(s.pid);
    } catch (e) {
      const raw = errorMessage(e);
      s.exitCode = /executable file not found|no such file or directory/.test(raw) ? 127 : 126;
      s.running = false;
      const msg = `OCI runtime exec failed: ${raw}: unknown`;
      if (client) {
        // The client already has the stream: dockerd writes the error on stdout.
        const text = Buffer.from(`${msg}\r\n`);
        client.end(tty ? text : frame(1, text));
        return;
      }
      throw serverError(msg);
    }
    if (attach && client) {
      await attached.catch(() => undefined);
      await s.done;
      client.end();
    }
  }

  /**
   * Runs `cmd` in a running container as dockerd runs a health probe: an exec
   * session (with its events) whose stdout and stderr are collected, up to
   * `maxOutput` bytes ("..." marks a cut). `timeoutMs` counts from when the
   * process runs; past it the process is killed. `signal` cancels the run (the
   * container stopped or paused). The session is forgotten afterwards.
   */
  async runCaptured(
    containerId: string,
    cmd: string[],
    o: { timeoutMs: number; maxOutput: number; signal?: AbortSignal },
  ): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const { Id } = this.create(containerId, { Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
    const s = this.get(Id);
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    const demux = new Demuxer((_stream, payload) => {
      const room = o.maxOutput - kept;
      if (room > 0) {
        chunks.push(payload.subarray(0, room));
        kept += Math.min(room, payload.length);
      }
      if (payload.length > room) truncated = true;
    });
    const sink = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        demux.push(chunk);
        cb();
      },
    });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const kill = () => {
      if (s.pid && s.running) {
        try {
          process.kill(s.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    s.onStarted = () => {
      if (o.signal?.aborted) kill();
      timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, o.timeoutMs);
    };
    const onAbort = () => kill();
    o.signal?.addEventListener('abort', onAbort);
    try {
      await this.start(Id, { detach: false, tty: false }, sink);
      await s.done;
    } finally {
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      sink.destroy();
      this.sessions.delete(Id);
      this.containers.trackExec(containerId, Id, false);
    }
    const output = Buffer.concat(chunks).toString('utf8') + (truncated ? '...' : '');
    if (!s.pid) throw new Error(output.trim() || 'health check process did not start');
    return { exitCode: s.exitCode ?? -1, output, timedOut };
  }

  async resize(id: string, h: number, w: number): Promise<void> {
    const s = this.get(id);
    if (!s.running) throw conflict(`Exec ${id} is not running`);
    await this.runtime.resize(s.bundle, h, w).catch((e) => {
      throw notFound(`cannot resize exec: ${errorMessage(e)}`);
    });
  }
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...extra]) {
    const i = e.indexOf('=');
    out.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...out.values()];
}
