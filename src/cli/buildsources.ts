// What `berth build` sends beyond the context: `--build-context` values (local directories
// packed into the body tar under a prefix, images and URLs passed by name) and `--ssh` agents
// (the socket path on this host, which the local berthd connects to; key files are loaded
// into an ssh-agent of the CLI's own for the length of the build).
import { spawn } from 'node:child_process';
import { mkdtempSync, promises as fsp, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOCAL_NAMED_CONTEXT, NAMED_CONTEXT_PREFIX, isRemoteContext, validContextName } from '../common/build-contexts.js';
import { readDockerignore } from '../builder/dockerignore.js';
import { StatusError } from './flags.js';
import type { ExtraTree } from './format/build-context.js';

export interface NamedContexts {
  /** the `buildcontexts` query value */
  query: Record<string, string>;
  /** local directories to pack into the body */
  trees: ExtraTree[];
}

/** Parses `--build-context name=value` flags (BuildKit's forms, minus oci-layout://). */
export async function namedContexts(specs: string[]): Promise<NamedContexts> {
  const out: NamedContexts = { query: {}, trees: [] };
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new StatusError(`invalid context value: ${spec}, expected key=value`, 1);
    const name = spec.slice(0, eq);
    const value = spec.slice(eq + 1);
    if (!validContextName(name)) throw new StatusError(`invalid context name ${JSON.stringify(name)}`, 1);
    if (value.startsWith('docker-image://') || isRemoteContext(value)) {
      out.query[name] = value;
      continue;
    }
    if (value.startsWith('oci-layout://') || value.startsWith('target:')) throw new StatusError(`build context ${name}: ${value.split(':')[0]} contexts are not supported by berth`, 1);
    const dir = path.resolve(value);
    let st;
    try {
      st = statSync(dir);
    } catch {
      throw new StatusError(`unable to prepare context: path ${JSON.stringify(value)} not found`, 1);
    }
    if (!st.isDirectory()) throw new StatusError(`unable to prepare context: context must be a directory: ${dir}`, 1);
    const ignore = await fsp.readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => '');
    out.query[name] = LOCAL_NAMED_CONTEXT;
    out.trees.push({ dir, prefix: `${NAMED_CONTEXT_PREFIX}${name}/`, patterns: readDockerignore(ignore) });
  }
  return out;
}

export interface SshForwards {
  /** id → agent socket path */
  sockets: Record<string, string>;
  /** stops the agents the CLI started for key files */
  close(): void;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(out.trim() || `${cmd} exited with ${code}`))));
  });
}

/**
 * `--ssh default|<id>[=<socket>|<key>[,<key>…]]`, as buildx: no path means $SSH_AUTH_SOCK.
 * The sockets are paths on the client's host: berthd on the same host reaches them directly,
 * one on another host through an ssh session (sshsession.ts).
 */
export async function sshForwards(specs: string[], env: NodeJS.ProcessEnv): Promise<SshForwards> {
  const agents: Array<{ pid: number; dir: string }> = [];
  const fwd: SshForwards = {
    sockets: {},
    close() {
      for (const a of agents) {
        try {
          process.kill(a.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        rmSync(a.dir, { recursive: true, force: true });
      }
    },
  };
  try {
    for (const spec of specs) {
      const eq = spec.indexOf('=');
      const id = eq < 0 ? spec : spec.slice(0, eq);
      const paths = eq < 0 ? [] : spec.slice(eq + 1).split(',').filter(Boolean);
      if (!id) throw new StatusError(`invalid ssh spec ${JSON.stringify(spec)}`, 1);
      if (paths.length === 0) {
        const sock = env.SSH_AUTH_SOCK;
        if (!sock) throw new StatusError('invalid empty ssh agent socket: make sure SSH_AUTH_SOCK is set', 1);
        fwd.sockets[id] = path.resolve(sock);
        continue;
      }
      const stats = paths.map((p) => {
        try {
          return statSync(p);
        } catch {
          throw new StatusError(`failed to stat ${p}: no such file or directory`, 1);
        }
      });
      if (paths.length === 1 && stats[0]!.isSocket()) {
        fwd.sockets[id] = path.resolve(paths[0]!);
        continue;
      }
      // key files: an agent of our own holds them while the build runs
      const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-ssh-'));
      const sock = path.join(dir, 'agent.sock');
      const out = await run('/usr/bin/ssh-agent', ['-a', sock, '-s'], env);
      const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
      agents.push({ pid, dir });
      for (const key of paths) {
        await run('/usr/bin/ssh-add', ['-q', key], { ...env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: '', DISPLAY: '' }).catch((e) => {
          throw new StatusError(`failed to load ssh key ${key}: ${(e as Error).message}`, 1);
        });
      }
      fwd.sockets[id] = sock;
    }
  } catch (e) {
    fwd.close();
    throw e;
  }
  return fwd;
}
