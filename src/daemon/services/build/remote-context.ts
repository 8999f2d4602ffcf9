// Remote build contexts, as dockerd's builder/remotecontext does them: a git repository
// (`URL#ref:subdir`, cloned with the host's git, shallow where the server allows, submodules
// included) or an http(s) URL whose body is a (compressed) tar context or a plain-text
// Dockerfile. Both end as a BuildContext like an uploaded tar.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { isGitUrl } from '../../../common/build-contexts.js';
import { secureJoin } from '../../system/user-lookup.js';
import { BuildContext, BuildContextError } from './build-context.js';

const GIT = '/usr/bin/git';
const TAR = '/bin/tar';
/** A clone or download that takes longer than this is abandoned. */
const REMOTE_TIMEOUT_MS = 10 * 60_000;

export interface GitRemote {
  remote: string;
  /** empty: the remote's default branch */
  ref: string;
  subdir: string;
}

/** moby's parseRemoteURL: `#ref:subdir` fragment; scp-like `git@host:path` kept as is. */
export function parseGitUrl(url: string): GitRemote {
  let u = url;
  if (!/^(git@|(git|https?|ssh):\/\/)/i.test(u)) u = 'https://' + u;
  const hash = u.indexOf('#');
  const remote = hash < 0 ? u : u.slice(0, hash);
  const fragment = hash < 0 ? '' : u.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  if (ref.startsWith('-')) throw new BuildContextError(`invalid refspec: ${ref}`);
  return { remote, ref, subdir };
}

/** How git reaches ssh remotes (`git@host:…`, `ssh://`): the build's forwarded agent, no prompts. */
export interface GitSsh {
  /** the agent socket of `--ssh default`, if the client forwarded one */
  agent?: string;
}

function gitCmd(dir: string, args: string[], signal?: AbortSignal, ssh: GitSsh = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // as dockerd: no file:// submodules a hostile repository could point at the daemon's disk,
    // no protocols the user did not name, no system or user config, no prompts
    const p = spawn(GIT, ['-c', 'protocol.file.allow=never', ...args], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROTOCOL_FROM_USER: '0',
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: '/dev/null',
        GIT_TERMINAL_PROMPT: '0',
        // as BuildKit without known_hosts: the host key is not checked; keys come from the client's agent only
        GIT_SSH_COMMAND: 'ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
        ...(ssh.agent ? { SSH_AUTH_SOCK: ssh.agent } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
      timeout: REMOTE_TIMEOUT_MS,
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', (e) => reject(new BuildContextError(`git ${args[0]}: ${e.message}`)));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new BuildContextError(`${out.trim()}: exit status ${code ?? 'killed'}`))));
  });
}

/** A smart HTTP server answers the upload-pack advertisement; only those can fetch shallow. */
async function supportsShallow(remote: string): Promise<boolean> {
  if (!/^https?:\/\//i.test(remote)) return true;
  try {
    const res = await fetch(remote + '/info/refs?service=git-upload-pack', { method: 'HEAD', signal: AbortSignal.timeout(30_000) });
    return res.headers.get('content-type') === 'application/x-git-upload-pack-advertisement';
  } catch {
    return false;
  }
}

/**
 * The commit a git URL's ref names, asked of the remote (`git ls-remote`) without cloning, so
 * an `ADD <git URL>` whose commit is cached costs no clone (BuildKit resolves refs the same way).
 * A full commit ID is its own answer; an abbreviated one needs the clone: undefined.
 */
export async function resolveGitCommit(url: string, tmpDir: string, signal?: AbortSignal, ssh: GitSsh = {}): Promise<string | undefined> {
  const r = parseGitUrl(url);
  if (/^[0-9a-f]{40}$/.test(r.ref)) return r.ref;
  if (/^[0-9a-f]{7,39}$/.test(r.ref)) return undefined;
  const ref = r.ref || 'HEAD';
  let out: string;
  try {
    out = await gitCmd(tmpDir, ['ls-remote', '--', r.remote, ref], signal, ssh);
  } catch (e) {
    throw new BuildContextError(`failed to resolve ${url}: ${(e as Error).message}`);
  }
  const lines = out.split('\n').map((l) => l.split('\t')).filter((x): x is [string, string] => x.length === 2 && /^[0-9a-f]{40}$/.test(x[0]!));
  const names = ref === 'HEAD' ? ['HEAD'] : ref.startsWith('refs/') ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`];
  for (const name of names) {
    // an annotated tag: the commit it points at, not the tag object
    const hit = lines.find(([, n]) => n === `${name}^{}`) ?? lines.find(([, n]) => n === name);
    if (hit) return hit[0];
  }
  throw new BuildContextError(`failed to resolve ${url}: no such ref ${ref} in ${r.remote}`);
}

/** The commit checked out in a clone. */
export async function gitHead(dir: string): Promise<string> {
  return (await gitCmd(dir, ['rev-parse', 'HEAD'])).trim();
}

/** Clones into `dir`; returns the context root (the subdir, resolved inside the checkout). */
export async function cloneGit(url: string, dir: string, signal?: AbortSignal, ssh: GitSsh = {}): Promise<string> {
  const r = parseGitUrl(url);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const git = (d: string, args: string[], sig?: AbortSignal) => gitCmd(d, args, sig, ssh);
  await git(dir, ['init', '-q'], signal);
  await git(dir, ['remote', 'add', 'origin', r.remote], signal);
  const ref = r.ref || 'HEAD';
  const fetchArgs = ['fetch', '-q', ...((await supportsShallow(r.remote)) ? ['--depth', '1'] : []), 'origin', '--', ref];
  try {
    await git(dir, fetchArgs, signal);
  } catch (e) {
    // a commit a server will not hand out by name: fetch everything, then check it out
    if (!/^[0-9a-f]{7,40}$/.test(ref)) throw new BuildContextError(`error fetching: ${(e as Error).message}`);
    await git(dir, ['fetch', '-q', 'origin'], signal).catch((e2) => {
      throw new BuildContextError(`error fetching: ${(e2 as Error).message}`);
    });
  }
  try {
    await git(dir, ['checkout', '-q', ref], signal);
  } catch (e) {
    await git(dir, ['checkout', '-q', 'FETCH_HEAD'], signal).catch(() => {
      throw new BuildContextError(`error checking out ${ref}: ${(e as Error).message}`);
    });
  }
  await git(dir, ['submodule', 'update', '--init', '--recursive', '--depth=1'], signal).catch((e) => {
    throw new BuildContextError(`error initializing submodules: ${(e as Error).message}`);
  });
  if (!r.subdir) return dir;
  const sub = await secureJoin(dir, r.subdir);
  const st = await fsp.stat(sub).catch(() => undefined);
  if (!st) throw new BuildContextError(`error setting git context, ${JSON.stringify(r.subdir)} not within git root: no such file or directory`);
  if (!st.isDirectory()) throw new BuildContextError(`error setting git context, not a directory: ${r.subdir}`);
  return sub;
}

/** A directory as a context (its `.git` left out, as BuildKit does). */
async function contextFromDir(root: string, dir: string): Promise<BuildContext> {
  const p = spawn(TAR, ['-c', '--exclude=.git', '-C', root, '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', resolve);
  });
  const ctx = await BuildContext.extract(p.stdout, dir);
  const code = await exited;
  if (code !== 0) throw new BuildContextError(`reading the git context: ${err.trim()}`);
  return ctx;
}

const ARCHIVE_MAGIC = (b: Buffer) =>
  (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) ||
  (b.length >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') ||
  (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) ||
  (b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar');

/** Go's http.DetectContentType, reduced to what matters here: text or not. */
function looksLikeText(b: Buffer): boolean {
  if (ARCHIVE_MAGIC(b)) return false;
  for (const c of b.subarray(0, 512)) if (c < 0x09 || (c > 0x0d && c < 0x20 && c !== 0x1b)) return false;
  return true;
}

async function fileContext(name: string, data: Buffer, dir: string): Promise<BuildContext> {
  const pack = tar.pack();
  pack.entry({ name, mode: 0o644, size: data.length }, data);
  pack.finalize();
  return BuildContext.extract(Readable.from(pack as AsyncIterable<Buffer>), dir);
}

/** An http(s) URL: a tar (plain or compressed) context, or, served as text, the Dockerfile alone. */
export async function downloadContext(url: string, dockerfileName: string, dir: string, signal?: AbortSignal): Promise<BuildContext> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(REMOTE_TIMEOUT_MS)]) : AbortSignal.timeout(REMOTE_TIMEOUT_MS) });
  } catch (e) {
    throw new BuildContextError(`error downloading remote context ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new BuildContextError(`error downloading remote context ${url}: failed to GET ${url} with status ${res.status} ${res.statusText}`);
  const body = Buffer.from(await res.arrayBuffer());
  let type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  // servers send files without an extension (a Dockerfile) as octet-stream: look at the bytes
  if (!type || type === 'application/octet-stream') type = looksLikeText(body) ? 'text/plain' : 'application/octet-stream';
  if (type === 'text/plain' && !ARCHIVE_MAGIC(body)) return fileContext(dockerfileName || 'Dockerfile', body, dir);
  try {
    return await BuildContext.extract(Readable.from([body]), dir);
  } catch (e) {
    if (e instanceof BuildContextError) throw e;
    throw new BuildContextError(`error processing remote context ${url}: ${(e as Error).message}`);
  }
}

/** Any remote context (git or http) as a BuildContext under `tmpDir`; the caller removes it. */
export async function remoteContext(url: string, dockerfileName: string, tmpDir: string, signal?: AbortSignal, ssh: GitSsh = {}): Promise<BuildContext> {
  const id = randomBytes(8).toString('hex');
  const dir = path.join(tmpDir, 'build-remote-' + id);
  if (!isGitUrl(url)) {
    try {
      return await downloadContext(url, dockerfileName, dir, signal);
    } catch (e) {
      await fsp.rm(dir, { recursive: true, force: true });
      throw e;
    }
  }
  const clone = path.join(tmpDir, 'build-git-' + id);
  try {
    const root = await cloneGit(url, clone, signal, ssh);
    return await contextFromDir(root, dir);
  } catch (e) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw e;
  } finally {
    await fsp.rm(clone, { recursive: true, force: true });
  }
}
