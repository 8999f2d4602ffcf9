// berth build / image build: sends the context to POST /build and renders BuildKit-style
// progress from berthd's structured events (on stderr, as buildx does); -q prints the ID only.
import { createWriteStream, promises as fsp, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Command, Ctx } from '../command.js';
import { StatusError } from '../flags.js';
import { readAll } from '../client.js';
import { parseNormalized, referenceString, withDefaultTag } from '../../common/reference.js';
import { contextTar, dockerfileTar, ignorePatterns, looksLikeArchive } from '../format/build-context.js';
import { BuildProgress, TtyBuildProgress } from '../format/build-progress.js';
import { namedContexts, sshForwards, type SshForwards } from '../buildsources.js';
import { openSshSession, type SshSession } from '../sshsession.js';
import { SECRETS_HEADER, SSH_HEADER, isRemoteContext } from '../../common/build-contexts.js';

function kvList(values: string[], env: NodeJS.ProcessEnv, fromEnv: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i >= 0) out[v.slice(0, i)] = v.slice(i + 1);
    else if (fromEnv) out[v] = env[v] ?? null;
    else out[v] = '';
  }
  return out;
}

/** `--output type=local,dest=dir|type=tar,dest=file|dir|-`: the built filesystem, through a container export. */
async function exportOutput(ctx: Ctx, id: string, spec: string): Promise<void> {
  let type = 'local';
  let dest = spec;
  if (spec.includes('=')) {
    const kv = new Map(spec.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as [string, string]));
    type = kv.get('type') ?? 'local';
    dest = kv.get('dest') ?? '';
  } else if (spec === '-') type = 'tar';
  if (type !== 'local' && type !== 'tar') throw new StatusError(`output type "${type}" is not supported by berth: use local or tar`, 1);
  if (!dest) throw new StatusError(`dest is required for ${type} exporter`, 1);
  const c = await ctx.client.post('/containers/create', undefined, { Image: id, Cmd: ['/'], Entrypoint: [] });
  try {
    const res = await ctx.client.stream('GET', `/containers/${c.Id}/export`);
    if (type === 'tar') {
      const out = dest === '-' ? ctx.stdout : createWriteStream(dest);
      await pipeline(res, out, { end: dest !== '-' });
      return;
    }
    await fsp.mkdir(dest, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      const tarProc = spawn('/bin/tar', ['-x', '--no-same-owner', '-C', dest], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      tarProc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      tarProc.on('error', reject);
      tarProc.on('close', (code) => (code === 0 ? resolve() : reject(new StatusError(`failed to write output to ${dest}: ${err.trim()}`, 1))));
      res.pipe(tarProc.stdin);
    });
  } finally {
    await ctx.client.request('DELETE', `/containers/${c.Id}`, { query: { force: true } }).catch(() => undefined);
  }
}

export const command: Command = {
  spec: {
    use: 'build [OPTIONS] PATH | URL | -',
    short: 'Build an image from a Dockerfile',
    aliases: ['berth image build', 'berth build', 'berth builder build'],
    flags: [
      { name: 'build-arg', type: 'list', usage: 'Set build-time variables' },
      { name: 'build-context', type: 'stringArray', usage: 'Additional build contexts (e.g., name=path)' },
      { name: 'cache-from', type: 'stringSlice', usage: 'Images to consider as cache sources' },
      { name: 'file', short: 'f', type: 'string', usage: 'Name of the Dockerfile (default: "PATH/Dockerfile")' },
      { name: 'force-rm', type: 'bool', usage: 'Always remove intermediate containers' },
      { name: 'iidfile', type: 'string', usage: 'Write the image ID to the file' },
      { name: 'label', type: 'list', usage: 'Set metadata for an image' },
      { name: 'network', type: 'string', usage: 'Set the networking mode for the RUN instructions during build', def: 'default' },
      { name: 'no-cache', type: 'bool', usage: 'Do not use cache when building the image' },
      { name: 'output', short: 'o', type: 'stringArray', usage: 'Output destination (format: "type=local,dest=path")' },
      { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
      { name: 'progress', type: 'string', usage: 'Set type of progress output ("auto", "plain", "tty", "quiet"). Use plain to show container output', def: 'auto' },
      { name: 'pull', type: 'bool', usage: 'Always attempt to pull a newer version of the image' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the build output and print image ID on success' },
      { name: 'secret', type: 'stringArray', usage: 'Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")' },
      { name: 'squash', type: 'bool', usage: 'Squash newly built layers into a single new layer' },
      { name: 'ssh', type: 'stringArray', usage: 'SSH agent socket or keys to expose to the build (format: "default|<id>[=<socket>|<key>[,<key>]]")' },
      { name: 'rm', type: 'bool', usage: 'Remove intermediate containers after a successful build', def: 'true' },
      { name: 'tag', short: 't', type: 'list', usage: 'Name and optionally a tag in the "name:tag" format' },
      { name: 'target', type: 'string', usage: 'Set the target build stage to build.' },
    ],
    args: { kind: 'exact', n: 1 },
  },
  async run(ctx, flags, args) {
    const src = args[0]!;
    const progressMode = flags.string('progress') || 'auto';
    if (!['auto', 'plain', 'tty', 'quiet', 'rawjson'].includes(progressMode)) throw new StatusError(`invalid progress mode "${progressMode}": use auto, plain, tty or quiet`, 1);
    const quiet = flags.bool('quiet') || progressMode === 'quiet';
    const tags = flags.list('tag');
    for (const t of tags) {
      try {
        parseNormalized(t);
      } catch {
        throw new StatusError(`invalid argument "${t}" for "-t, --tag" flag: invalid reference format`, 125);
      }
    }
    let file = flags.string('file');
    let body: Readable;
    let dockerfileParam = '';
    const stdinFile = file === '-';
    if (stdinFile && src === '-') throw new StatusError('invalid argument: can\'t use stdin for both build context and dockerfile', 1);
    let sent = '';
    let remote = '';
    const named = await namedContexts(flags.list('build-context'));
    if (src === '-') {
      if (named.trees.length) throw new StatusError('local --build-context directories cannot be combined with a context from stdin', 1);
      const data = await readAll(ctx.stdin);
      if (looksLikeArchive(data)) {
        const { Readable: R } = await import('node:stream');
        body = R.from([data]);
        dockerfileParam = file;
      } else {
        body = dockerfileTar(data);
      }
      sent = `${data.length}B`;
    } else if (isRemoteContext(src)) {
      // the daemon clones or downloads it (dockerd's `remote`); -f names a file inside it
      if (stdinFile) throw new StatusError('a Dockerfile from stdin cannot be combined with a remote context', 1);
      remote = src;
      dockerfileParam = file;
      body = contextTar(null, [], [], [], named.trees);
    } else {
      let st;
      try {
        st = statSync(src);
      } catch {
        throw new StatusError(`unable to prepare context: path "${src}" not found`, 1);
      }
      if (!st.isDirectory()) throw new StatusError(`unable to prepare context: context must be a directory: ${path.resolve(src)}`, 1);
      const dir = path.resolve(src);
      const extra: Array<{ name: string; data: Buffer }> = [];
      let dfRel: string;
      if (stdinFile) {
        const data = await readAll(ctx.stdin);
        dfRel = `.dockerfile.${Math.random().toString(16).slice(2, 14)}`;
        extra.push({ name: dfRel, data });
      } else {
        const abs = file ? path.resolve(file) : path.join(dir, 'Dockerfile');
        dfRel = path.relative(dir, abs);
        if (dfRel.startsWith('..')) {
          // a Dockerfile outside the context travels inside it, as docker does
          let data: Buffer;
          try {
            data = await fsp.readFile(abs);
          } catch {
            throw new StatusError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`, 1);
          }
          dfRel = `.dockerfile.${Math.random().toString(16).slice(2, 14)}`;
          extra.push({ name: dfRel, data });
        } else {
          try {
            statSync(abs);
          } catch {
            throw new StatusError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`, 1);
          }
        }
      }
      file = dfRel;
      dockerfileParam = dfRel.split(path.sep).join('/');
      const patterns = await ignorePatterns(dir, stdinFile ? 'Dockerfile' : dockerfileParam);
      body = contextTar(dir, patterns, [dockerfileParam, '.dockerignore', dockerfileParam + '.dockerignore'], extra, named.trees);
    }
    const secrets: Record<string, string> = {};
    for (const spec of flags.list('secret')) {
      const kv = new Map(spec.split(',').map((p) => [p.slice(0, p.indexOf('=') < 0 ? p.length : p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as [string, string]));
      const id = kv.get('id');
      if (!id) throw new StatusError(`invalid secret "${spec}": an id is required (id=mysecret,src=/local/secret)`, 1);
      const src = kv.get('src') ?? kv.get('source');
      const envName = kv.get('env') ?? (src ? undefined : id);
      let data: Buffer;
      if (src) {
        try {
          data = await fsp.readFile(src);
        } catch {
          throw new StatusError(`failed to read secret ${id}: open ${src}: no such file or directory`, 1);
        }
      } else {
        const v = ctx.env[envName!];
        if (v === undefined) throw new StatusError(`secret ${id}: environment variable ${envName} is not set`, 1);
        data = Buffer.from(v);
      }
      secrets[id] = data.toString('base64');
    }
    const structured = !quiet;
    const ssh: SshForwards = await sshForwards(flags.list('ssh'), ctx.env);
    let session: SshSession | undefined;
    try {
      // a daemon on another host cannot reach the agent sockets by path
      if (!ctx.client.endpoint.socketPath && Object.keys(ssh.sockets).length) session = await openSshSession(ctx.client, ssh.sockets, (m) => ctx.stderr.write(`WARNING: ${m}\n`));
      return await send();
    } finally {
      session?.close();
      ssh.close();
    }

    async function send(): Promise<number> {
      const res = await ctx.client.stream('POST', '/build', {
        query: {
          t: tags,
          dockerfile: dockerfileParam || undefined,
          buildargs: JSON.stringify(kvList(flags.list('build-arg'), ctx.env, true)),
          labels: JSON.stringify(kvList(flags.list('label'), ctx.env, false)),
          target: flags.string('target') || undefined,
          nocache: flags.bool('no-cache') || undefined,
          squash: flags.bool('squash') || undefined,
          cachefrom: flags.list('cache-from').length ? JSON.stringify(flags.list('cache-from')) : undefined,
          q: quiet || undefined,
          pull: flags.bool('pull') || undefined,
          rm: flags.bool('rm'),
          // BuildKit leaves no step containers behind; --rm=false keeps them as the classic builder does
          forcerm: flags.bool('force-rm') || flags.bool('rm') || undefined,
          remote: remote || undefined,
          buildcontexts: Object.keys(named.query).length ? JSON.stringify(named.query) : undefined,
          networkmode: flags.string('network') || undefined,
          platform: flags.string('platform') || undefined,
          berthprogress: structured || undefined,
          sshsession: session?.id,
        },
        body,
        headers: {
          'Content-Type': 'application/x-tar',
          ...(Object.keys(secrets).length ? { [SECRETS_HEADER]: Buffer.from(JSON.stringify(secrets)).toString('base64') } : {}),
          ...(!session && Object.keys(ssh.sockets).length ? { [SSH_HEADER]: Buffer.from(JSON.stringify(ssh.sockets)).toString('base64') } : {}),
        },
      });
      const stderrTty = !!(ctx.stderr as { isTTY?: boolean }).isTTY;
      const live = structured && (progressMode === 'tty' || (progressMode === 'auto' && stderrTty));
      const progress = live ? new TtyBuildProgress(ctx.stderr, (ctx.stderr as { columns?: number }).columns || 80) : new BuildProgress(ctx.stderr);
      if (live) (progress as TtyBuildProgress).start();
      if (structured) {
        progress.internal(`[internal] load build definition from ${path.basename(file || 'Dockerfile')}`, '');
        progress.internal('[internal] load .dockerignore', '');
        progress.internal('[internal] load build context', sent ? `transferring context: ${sent} done` : '');
      }
      let id = '';
      let failure: { message: string; code: number } | undefined;
      await new Promise<void>((resolve, reject) => {
        let buf = '';
        const handle = (line: string) => {
          if (!line.trim()) return;
          let m: Record<string, any>;
          try {
            m = JSON.parse(line);
          } catch {
            return;
          }
          if (m.error || m.errorDetail) failure = { message: m.errorDetail?.message ?? m.error, code: m.errorDetail?.code || 1 };
          else if (m.berthBuild) progress.event(m.berthBuild);
          else if (m.aux?.ID) id = m.aux.ID;
          else if (typeof m.stream === 'string' && !quiet && !structured) ctx.stderr.write(m.stream);
        };
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            handle(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
        });
        res.on('end', () => {
          handle(buf);
          resolve();
        });
        res.on('error', reject);
      });
      if (live) {
        if (!failure && id) progress.exported(id, []);
        (progress as TtyBuildProgress).stop(!failure);
      }
      if (failure) {
        ctx.stderr.write(`ERROR: ${failure.message}\n`);
        return failure.code;
      }
      if (!id) throw new StatusError('build finished without an image ID', 1);
      if (structured && !live) progress.exported(id, tags.map((t) => referenceString(withDefaultTag(parseNormalized(t)))));
      if (quiet) ctx.stdout.write(id + '\n');
      for (const o of flags.list('output')) await exportOutput(ctx, id, o);
      const iid = flags.string('iidfile');
      if (iid) await fsp.writeFile(iid, id);
      return 0;
    }
  },
};
