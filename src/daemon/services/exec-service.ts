import fs from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { badRequest, conflict, noSuchExec, notFound, errorMessage, serverError } from '../errors.js';
import type { Runtime } from '../system/runtime.js';
import type { ContainerService } from './container-service.js';
import { generateId } from './names.js';
import { pipeAttach, parseDetachKeys } from './attach.js';
import { hostCapabilities, resolveUser } from '../system/oci-spec.js';
import { frame } from '../../common/stdcopy.js';

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
    return { Id: id };
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
