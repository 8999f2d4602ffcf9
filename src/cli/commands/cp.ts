// berth cp / container cp: docker-cli's cp.go rules over the archive API.
import path from 'node:path';
import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import type { Command, Ctx } from '../command.js';
import { StatusError } from '../flags.js';
import { enc } from '../batch.js';
import { humanSizeWithPrecision } from '../../common/units.js';
import {
  localDestInfo,
  localSourceInfo,
  packLocal,
  prepareArchiveCopy,
  rebaseEntries,
  rebaseName,
  resolveLocalPath,
  splitPathDirEntry,
  unpackLocal,
  type CopyInfo,
} from '../cparchive.js';
import { GO_DEVICE, GO_DIR, GO_IRREGULAR, GO_SYMLINK, hasModeBit, type PathStat } from '../../common/path-stat.js';

const hasBit = hasModeBit;
const isDir = (m: number) => hasBit(m, GO_DIR);
const isSymlink = (m: number) => hasBit(m, GO_SYMLINK);

/** "CONTAINER:PATH" or a local path; an absolute path or one starting with "." is always local. */
export function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith('/')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

interface Opts {
  container: string;
  src: string;
  dst: string;
  followLink: boolean;
  copyUIDGID: boolean;
  quiet: boolean;
}

/** Counts bytes going through, for the "Successfully copied" line. */
function counter(): { t: Transform; n: () => number } {
  let n = 0;
  const t = new Transform({
    transform(c: Buffer, _e, cb) {
      n += c.length;
      cb(null, c);
    },
  });
  return { t, n: () => n };
}

async function statPath(ctx: Ctx, container: string, p: string): Promise<PathStat | undefined> {
  const res = await ctx.client.raw('HEAD', await ctx.client.path(`/containers/${enc(container)}/archive`), { query: { path: p } });
  res.resume();
  if ((res.statusCode ?? 0) !== 200) return undefined;
  const h = res.headers['x-docker-container-path-stat'];
  if (typeof h !== 'string') return undefined;
  return JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as PathStat;
}

async function copyFromContainer(ctx: Ctx, o: Opts): Promise<void> {
  let dst = o.dst;
  let src = o.src;
  if (dst !== '-') {
    dst = resolveLocalPath(dst);
    // docker's ValidateOutputPath: the directory the output goes into must exist.
    const parent = path.dirname(dst.replace(/\/\.?$/, '') || '/');
    let pst: fs.Stats | undefined;
    try {
      pst = fs.statSync(parent);
    } catch {
      throw new StatusError(`invalid output path: directory "${parent}" does not exist`, 1);
    }
    if (!pst.isDirectory()) throw new StatusError(`invalid output path: "${parent}" must be a directory`, 1);
  }
  let rebase: string | undefined;
  if (o.followLink) {
    const st = await statPath(ctx, o.container, src);
    if (st && isSymlink(st.mode)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = path.posix.join(splitPathDirEntry(src)[0], target);
      [src, rebase] = rebaseName(src, target);
    }
  }
  const res = await ctx.client.stream('GET', `/containers/${enc(o.container)}/archive`, { query: { path: src } });
  if (dst === '-') {
    for await (const c of res) ctx.stdout.write(c as Buffer);
    return;
  }
  const h = res.headers['x-docker-container-path-stat'];
  const st = typeof h === 'string' ? (JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as PathStat) : undefined;
  const srcInfo: CopyInfo = { path: src, exists: true, isDir: !!st && isDir(st.mode), rebaseName: rebase };
  const count = counter();
  try {
    const dstInfo = localDestInfo(dst);
    const plan = prepareArchiveCopy(srcInfo, dstInfo);
    let body: Readable = res.pipe(count.t);
    // The archive is named after the link's target; put the link's name back.
    if (rebase) body = rebaseEntries(body, splitPathDirEntry(src)[1], rebase);
    await unpackLocal(plan.rebase ? rebaseEntries(body, plan.rebase[0], plan.rebase[1]) : body, plan.dir);
  } finally {
    res.destroy();
    // docker prints the summary whether or not the copy landed, then the error.
    if (!o.quiet) ctx.stderr.write(`Successfully copied ${humanSizeWithPrecision(count.n(), 3)} to ${dst}\n`);
  }
}

async function copyToContainer(ctx: Ctx, o: Opts): Promise<void> {
  const src = o.src === '-' ? '-' : resolveLocalPath(o.src);
  const dst = o.dst;
  const dstInfo: CopyInfo = { path: dst, exists: false, isDir: false };
  let st = await statPath(ctx, o.container, dst);
  if (st && isSymlink(st.mode)) {
    let target = st.linkTarget;
    if (!target.startsWith('/')) target = path.posix.join(splitPathDirEntry(dst)[0], target);
    dstInfo.path = target;
    st = await statPath(ctx, o.container, target);
  }
  if (st) {
    const bad = hasBit(st.mode, GO_DEVICE) ? 'got a device' : hasBit(st.mode, GO_IRREGULAR) ? 'got an irregular file' : '';
    if (bad) throw new StatusError(`destination "${o.container}:${dst}" must be a directory or a regular file: ${bad}`, 1);
    dstInfo.exists = true;
    dstInfo.isDir = isDir(st.mode);
  }
  let content: Readable;
  let target: string;
  if (src === '-') {
    if (!dstInfo.isDir) throw new StatusError(`destination "${o.container}:${dst}" must be a directory`, 1);
    content = ctx.stdin;
    target = dstInfo.path;
  } else {
    const srcInfo = localSourceInfo(src, o.followLink);
    const plan = prepareArchiveCopy(srcInfo, dstInfo);
    const tarStream = packLocal(srcInfo);
    content = plan.rebase ? rebaseEntries(tarStream, plan.rebase[0], plan.rebase[1]) : tarStream;
    target = plan.dir;
  }
  const count = counter();
  const body = content.pipe(count.t);
  try {
    const res = await ctx.client.stream('PUT', `/containers/${enc(o.container)}/archive`, {
      query: { path: target, noOverwriteDirNonDir: true, copyUIDGID: o.copyUIDGID || undefined },
      body,
    });
    res.resume();
    await new Promise((r) => res.on('end', r));
  } finally {
    if (!o.quiet) ctx.stderr.write(`Successfully copied ${humanSizeWithPrecision(count.n(), 3)} to ${o.container}:${dstInfo.path}\n`);
  }
}

export const command: Command = {
  spec: {
    use: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
    short: 'Copy files/folders between a container and the local filesystem',
    aliases: ['berth container cp', 'berth cp'],
    flags: [
      { name: 'archive', short: 'a', type: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
      { name: 'follow-link', short: 'L', type: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
    ],
    args: { kind: 'exact', n: 2 },
  },
  async run(ctx, flags, args) {
    const [source, destination] = args as [string, string];
    if (source === '') throw new StatusError('source can not be empty', 1);
    if (destination === '') throw new StatusError('destination can not be empty', 1);
    const [srcContainer, srcPath] = splitCpArg(source);
    const [dstContainer, dstPath] = splitCpArg(destination);
    if (srcContainer && dstContainer) throw new StatusError('copying between containers is not supported', 1);
    if (!srcContainer && !dstContainer) throw new StatusError('must specify at least one container source', 1);
    // As docker: progress and the summary line only go to a terminal.
    const quiet = flags.bool('quiet') || !(ctx.stderr as { isTTY?: boolean }).isTTY;
    const o: Opts = {
      container: srcContainer || dstContainer,
      src: srcPath,
      dst: dstPath,
      followLink: flags.bool('follow-link'),
      copyUIDGID: flags.bool('archive'),
      quiet,
    };
    if (srcContainer) await copyFromContainer(ctx, o);
    else await copyToContainer(ctx, o);
    return 0;
  },
};
