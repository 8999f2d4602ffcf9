// The build context the CLI sends: the directory as a tar with `.dockerignore` (or
// `<Dockerfile>.dockerignore`) applied; the Dockerfile and the ignore file always travel,
// the daemon drops them again when they are excluded, as docker does.
import { createReadStream, lstatSync, promises as fsp, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { PatternMatcher, cleanPath, readDockerignore } from '../../builder/dockerignore.js';

async function readIfExists(p: string): Promise<string | undefined> {
  return fsp.readFile(p, 'utf8').catch(() => undefined);
}

/** The ignore patterns for a context dir and Dockerfile (context-relative path). */
export async function ignorePatterns(dir: string, dockerfileRel: string): Promise<string[]> {
  const own = await readIfExists(path.join(dir, dockerfileRel + '.dockerignore'));
  const text = own ?? (await readIfExists(path.join(dir, '.dockerignore'))) ?? '';
  return readDockerignore(text);
}

/** A directory sent under a prefix of the body tar (a local `--build-context`). */
export interface ExtraTree {
  dir: string;
  /** tar path prefix, ending in `/` */
  prefix: string;
  patterns: string[];
}

/** Files up to this size are read whole and queued; bigger ones are streamed. */
const SMALL_FILE = 1 << 20;
/** Queued-but-unsent bytes above which the walk waits for the socket to catch up. */
const HIGH_WATER = 16 << 20;

/**
 * Tars `dir` (none: only `trees` and `extra`); `extra` entries (a Dockerfile from stdin) are
 * added at the root, `trees` under their prefix. `keep` are context paths sent even when excluded.
 *
 * The walk is synchronous and small files are queued without waiting for each entry's callback:
 * a context is typically hundreds of small files, and an event-loop round trip per stat, open,
 * read and entry made the CLI spend more time tarring than berthd spends on a cached build.
 */
export function contextTar(dir: string | null, patterns: string[], keep: string[], extra: Array<{ name: string; data: Buffer }> = [], trees: ExtraTree[] = []): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  pack.pipe(out);
  let queued = 0;
  let last: Promise<void> = Promise.resolve();
  pack.on('error', (e: Error) => out.destroy(e));
  // An entry fails only when the pack is destroyed, and then every later one fails too: the
  // walk awaits the last entry, so the earlier ones' rejections need no handler of their own.
  const add = (h: Partial<tar.Header>, body?: Buffer): void => {
    queued += body?.length ?? 0;
    last = new Promise<void>((res, rej) => pack.entry(h as tar.Header, body ?? Buffer.alloc(0), (e) => (e ? rej(e) : res())));
    last.catch(() => undefined);
  };
  const settle = async () => {
    if (queued < HIGH_WATER) return;
    await last;
    queued = 0;
  };
  const walk = async (root: string, prefix: string, pm: PatternMatcher, keepSet: Set<string>, rel: string): Promise<void> => {
    const names = readdirSync(path.join(root, rel)).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      const abs = path.join(root, r);
      const st = lstatSync(abs);
      const excluded = !keepSet.has(r) && pm.matches(r);
      if (st.isDirectory()) {
        // an excluded directory is still walked when `!` exceptions may bring files back
        if (excluded && !pm.exclusions) continue;
        if (!excluded) add({ name: prefix + r + '/', type: 'directory', mode: st.mode & 0o7777, mtime: st.mtime });
        await walk(root, prefix, pm, keepSet, r);
        continue;
      }
      if (excluded) continue;
      const base = { mode: st.mode & 0o7777, mtime: st.mtime };
      if (st.isSymbolicLink()) add({ ...base, name: prefix + r, type: 'symlink', linkname: readlinkSync(abs) });
      else if (st.isFile() && st.size <= SMALL_FILE) {
        const data = readFileSync(abs);
        // a file that changed size since lstat: the header must match what is sent
        add({ ...base, name: prefix + r, type: 'file', size: data.length }, data);
        await settle();
      } else if (st.isFile()) {
        await last;
        queued = 0;
        await new Promise<void>((res, rej) => {
          const w = pack.entry({ ...base, name: prefix + r, type: 'file', size: st.size } as tar.Header, (e) => (e ? rej(e) : res()));
          const s = createReadStream(abs);
          s.on('error', rej);
          s.pipe(w);
        });
      }
    }
  };
  void (async () => {
    if (dir !== null) await walk(dir, '', new PatternMatcher(patterns), new Set(keep.map((k) => cleanPath(k))), '');
    for (const t of trees) {
      const st = statSync(t.dir);
      add({ name: t.prefix, type: 'directory', mode: st.mode & 0o7777, mtime: st.mtime });
      await walk(t.dir, t.prefix, new PatternMatcher(t.patterns), new Set(), '');
    }
    for (const e of extra) add({ name: e.name, type: 'file', mode: 0o644, size: e.data.length, mtime: new Date() }, e.data);
    await last;
    pack.finalize();
  })().catch((e: Error) => out.destroy(e));
  return out;
}

/** A single Dockerfile as a context of its own (`berth build - < Dockerfile`). */
export function dockerfileTar(data: Buffer, name = 'Dockerfile'): Readable {
  const pack = tar.pack();
  pack.entry({ name, type: 'file', mode: 0o644, size: data.length, mtime: new Date() }, data);
  pack.finalize();
  return pack as unknown as Readable;
}

/** Whether stdin's first bytes are an archive rather than a Dockerfile. */
export function looksLikeArchive(head: Buffer): boolean {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return true;
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}
