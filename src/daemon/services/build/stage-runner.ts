// Runs one build stage instruction by instruction, the way dockerd's classic builder does:
// every step yields an image (config-only steps an empty layer in history), RUN runs as a
// real container through the ContainerService, COPY/ADD/WORKDIR write their layer as a tar.
// Each step is looked up in the cache first by a key over the parent image, the expanded
// instruction, the build args in effect and the content of the files it reads.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ShellLex, parseDockerfile, astRoot, parseInstruction, type Command, type CommandOf, type Stage } from '../../../builder/dockerfile/index.js';
import { Demuxer } from '../../../common/stdcopy.js';
import { shortId } from '../../../common/reference.js';
import type { ContainerService } from '../container-service.js';
import type { ImageService } from '../image-service.js';
import type { BuildCacheStore } from '../../stores/build-cache.js';
import { upperDirTar } from '../../system/layer-diff.js';
import { getExecUser } from '../../system/user-lookup.js';
import type { BuildContext } from './build-context.js';
import type { BuildOutput } from './build-output.js';
import { planCopy, addParents } from './copy-plan.js';
import { healthcheckText, nopCreatedBy, nopCreatedByString, plainList, quoteList } from './history-text.js';
import { ImageFs } from './image-fs.js';
import { EMPTY_LAYER_DIGEST, layerTar, type LayerEntry } from './layer-tar.js';
import { contextTree, dirTree, expandSource, resolveFollow, type SourceTree } from './source-tree.js';
import { MountError, mountsKey, prepareMounts, removeMountStubs, type RunMountEnv } from './run-mounts.js';
import { cloneGit, gitHead, resolveGitCommit } from './remote-context.js';
import { isGitUrl } from '../../../common/build-contexts.js';
import { SKIP_IMAGE_VOLUMES } from '../mount-spec.js';
import { resolveMounts } from '../../../builder/dockerfile/index.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Build args every Dockerfile may use without declaring them; they never show in history. */
export const BUILTIN_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);
/** Label on RUN containers: other services can tell build steps from user containers (no volumes for image VOLUMEs). */
export const BUILD_STEP_LABEL = 'io.berth.build-step';

/** A failure the user caused; `code` becomes the CLI's exit status (a RUN's exit code). */
export class BuildError extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
  }
}

export interface StageResult {
  imageId: string | undefined;
  config: any;
  /** the image the stage started from (undefined for scratch) */
  baseId: string | undefined;
}

/** A `--build-context`: an image standing in for a name, or a directory of files. */
export type NamedContext = { kind: 'image'; ref: string } | { kind: 'local'; ctx: BuildContext };

export interface BuildEnv {
  images: ImageService;
  containers: ContainerService;
  cache: BuildCacheStore;
  tmpDir: string;
  /** where RUN --mount=type=cache directories live */
  cacheMountsDir: string;
  secrets: Map<string, Buffer>;
  /** `--ssh` agent sockets on this host by id */
  sshSockets: Map<string, string>;
  /** the named build context called so, if any */
  named(name: string): NamedContext | undefined;
  /** remove each step's container after success (`rm`), and after failure too (`forcerm`) */
  rm: boolean;
  forceRm: boolean;
  ctx: BuildContext;
  out: BuildOutput;
  noCache: boolean;
  networkMode: string;
  buildArgs: Map<string, string>;
  consumed: Set<string>;
  metaArgs: Map<string, string | undefined>;
  escapeToken: string;
  /** the result of an earlier stage named by `--from`/FROM (name or index), or undefined when none is called so */
  stageRef(ref: string, before: number): Promise<StageResult> | undefined;
  /** an image by reference, pulled when missing */
  image(ref: string): Promise<string>;
  aborted(): boolean;
  /** `--cache-from` images: config and manifest layer descriptors */
  cacheFrom: Array<{ id: string; config: any; layers: Array<{ digest: string; size: number; mediaType: string }> }>;
  /** runs image registrations one at a time (parallel stages may unpack the same layer) */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  /** the client went away: running steps are killed */
  signal?: AbortSignal;
  stepLabel(stage: number, cmd: number): string;
  stepTotal: number;
}

interface State {
  imageId: string | undefined;
  config: any;
  run: any;
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

function scratchConfig(): any {
  return {
    architecture: process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch,
    os: 'linux',
    config: { Env: [`PATH=${DEFAULT_PATH}`] },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}

export class StageRunner {
  private st!: State;
  private baseId: string | undefined;
  private lex: ShellLex;

  constructor(
    private readonly env: BuildEnv,
    private readonly stage: Stage,
    private readonly index: number,
  ) {
    this.lex = new ShellLex(env.escapeToken);
  }

  async run(): Promise<StageResult> {
    const override = this.stage.name ? this.env.named(this.stage.name) : undefined;
    await this.from(override);
    // as BuildKit: a named context called like a stage replaces the whole stage
    if (override) return { imageId: this.st.imageId, config: this.st.config, baseId: this.baseId };
    for (let i = 0; i < this.stage.commands.length; i++) {
      if (this.env.aborted()) throw new BuildError('build cancelled');
      const c = this.stage.commands[i]!;
      this.env.out.text(`Step ${this.env.stepLabel(this.index, i + 1)}/${this.env.stepTotal} : ${c.code}\n`);
      await this.dispatch(c);
    }
    return { imageId: this.st.imageId, config: this.st.config, baseId: this.baseId };
  }

  // ---- expansion ----

  private expandEnv(): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of this.st.args) if (v !== undefined) m.set(k, v);
    for (const [k, v] of envMap(this.st.run.Env)) m.set(k, v);
    return m;
  }

  private expand(word: string): string {
    return this.lex.processWord(word, this.expandEnv());
  }

  /** Build args a RUN sees, `KEY=VALUE` sorted; ENV of the same name wins. */
  private argsInEffect(): string[] {
    const env = envMap(this.st.run.Env);
    const out: string[] = [];
    for (const [k, v] of this.st.args) if (v !== undefined && !env.has(k)) out.push(`${k}=${v}`);
    for (const [k, v] of this.env.buildArgs) if (BUILTIN_ARGS.has(k) && !this.st.args.has(k) && !env.has(k)) out.push(`${k}=${v}`);
    return out.sort();
  }

  private get shell(): string[] {
    return this.st.run.Shell?.length ? this.st.run.Shell : ['/bin/sh', '-c'];
  }

  // ---- FROM ----

  private async from(override?: NamedContext): Promise<void> {
    const s = this.stage;
    this.env.out.text(`Step ${this.env.stepLabel(this.index, 0)}/${this.env.stepTotal} : ${s.sourceCode}\n`);
    const metaEnv = new Map<string, string>();
    for (const [k, v] of this.env.metaArgs) if (v !== undefined) metaEnv.set(k, v);
    const base = this.lex.processWord(s.baseName, metaEnv);
    const vertex = this.env.out.vertex(`[${this.stepName(0)}] FROM ${base}`);
    const t0 = Date.now();
    if (s.platform) {
      const p = this.lex.processWord(s.platform, metaEnv);
      checkPlatform(p);
    }
    const args = new Map<string, string | undefined>();
    const ref = override || base === 'scratch' ? undefined : this.env.stageRef(base, this.index);
    // a stage of that name wins over a named context, which wins over an image (BuildKit's order)
    const named = override ?? (ref || base === 'scratch' ? undefined : this.env.named(base));
    if (named?.kind === 'local') {
      this.st = { imageId: undefined, config: scratchConfig(), run: scratchConfig().config, args, cmdSet: false };
      this.st.config.config = this.st.run;
      await this.copyStep(copyAllCommand(), 'COPY', contextTree(named.ctx));
    } else if (base === 'scratch' && !named) {
      this.st = { imageId: undefined, config: scratchConfig(), run: scratchConfig().config, args, cmdSet: false };
    } else {
      let id: string | undefined;
      if (ref) id = (await ref).imageId;
      else id = await this.env.image(named?.kind === 'image' ? named.ref : base);
      if (id) {
        const rec = await this.env.images.resolve(id);
        const config = structuredClone(rec.config);
        config.config ??= {};
        this.st = { imageId: id, config, run: config.config, args, cmdSet: false };
      } else {
        this.st = { imageId: undefined, config: scratchConfig(), run: scratchConfig().config, args, cmdSet: false };
      }
      if (!envMap(this.st.run.Env).has('PATH')) this.st.run.Env = [...(this.st.run.Env ?? []), `PATH=${DEFAULT_PATH}`];
    }
    this.st.config.config = this.st.run;
    this.baseId = this.st.imageId;
    if (this.st.imageId) this.env.out.text(` ---> ${shortId(this.st.imageId)}\n`);
    this.env.out.event({ type: 'done', vertex, cached: false, ms: Date.now() - t0 });
    const triggers: string[] = this.st.run.OnBuild ?? [];
    if (triggers.length) {
      this.env.out.text(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      this.st.run.OnBuild = null;
      for (const t of triggers) {
        const parsed = parseDockerfile(t);
        for (const n of astRoot(parsed).children) {
          const c = parseInstruction(n);
          if (c.kind === 'from') throw new BuildError(`FROM isn't allowed as an ONBUILD trigger`);
          await this.dispatch(c);
        }
      }
    }
  }

  private stepName(cmd: number): string {
    const n = this.stage.commands.length + 1;
    const prefix = this.stage.name ? `${this.stage.name} ` : '';
    return `${prefix}${cmd + 1}/${n}`;
  }

  // ---- steps ----

  private async dispatch(c: Command): Promise<void> {
    const idx = this.stage.commands.indexOf(c);
    const vertex = this.env.out.vertex(`[${idx >= 0 ? this.stepName(idx + 1) : 'onbuild'}] ${c.code}`);
    const t0 = Date.now();
    try {
      const cached = await this.dispatchKind(c, vertex);
      this.env.out.event({ type: 'done', vertex, cached, ms: Date.now() - t0 });
    } catch (e) {
      this.env.out.event({ type: 'error', vertex, message: (e as Error).message, ms: Date.now() - t0 });
      throw e;
    }
  }

  /** Returns whether the step came from the cache. */
  private async dispatchKind(c: Command, vertex: number): Promise<boolean> {
    const run = this.st.run;
    switch (c.kind) {
      case 'env': {
        const parts: string[] = [];
        const env = [...(run.Env ?? [])] as string[];
        for (const kv of c.env) {
          const key = this.expand(kv.key);
          const value = this.expand(kv.value);
          const i = env.findIndex((e) => e === key || e.startsWith(key + '='));
          if (i >= 0) env[i] = `${key}=${value}`;
          else env.push(`${key}=${value}`);
          parts.push(`${key}=${value}`);
        }
        return this.configStep(`ENV ${parts.join(' ')}`, (r) => (r.Env = env));
      }
      case 'label': {
        const parts: string[] = [];
        const labels: Record<string, string> = { ...(run.Labels ?? {}) };
        for (const kv of c.labels) {
          const key = this.expand(kv.key);
          const value = this.expand(kv.value);
          labels[key] = value;
          parts.push(`${key}=${value}`);
        }
        return this.configStep(`LABEL ${parts.join(' ')}`, (r) => (r.Labels = labels));
      }
      case 'maintainer':
        return this.configStep(`MAINTAINER ${c.maintainer}`, () => undefined, (cfg) => (cfg.author = c.maintainer));
      case 'arg': {
        const commit: string[] = [];
        for (const a of c.args) {
          const key = a.key;
          this.env.consumed.add(key);
          const dflt = a.value !== undefined ? this.expand(a.value) : undefined;
          let value: string | undefined;
          if (this.env.buildArgs.has(key)) value = this.env.buildArgs.get(key);
          else if (dflt !== undefined) value = dflt;
          else value = this.env.metaArgs.get(key);
          this.st.args.set(key, value);
          commit.push(dflt !== undefined ? `${key}=${dflt}` : key);
        }
        return this.configStep(`ARG ${commit.join(' ')}`, () => undefined);
      }
      case 'workdir':
        return this.workdir(this.expand(c.path));
      case 'user': {
        const user = this.expand(c.user);
        return this.configStep(`USER ${user}`, (r) => (r.User = user));
      }
      case 'volume': {
        const vols = c.volumes.map((v) => this.expand(v));
        for (const v of vols) if (v.trim() === '') throw new BuildError('VOLUME specified can not be an empty string');
        return this.configStep(`VOLUME ${plainList(vols)}`, (r) => {
          r.Volumes = { ...(r.Volumes ?? {}) };
          for (const v of vols) r.Volumes[v] = {};
        });
      }
      case 'expose': {
        const ports = c.ports.map((p) => this.expand(p));
        const exposed: Record<string, object> = { ...(run.ExposedPorts ?? {}) };
        for (const p of ports) for (const k of parsePortSpec(p)) exposed[k] = {};
        return this.configStep(`EXPOSE ${ports.join(' ')}`, (r) => (r.ExposedPorts = exposed));
      }
      case 'stopsignal': {
        const sig = this.expand(c.signal);
        return this.configStep(`STOPSIGNAL ${sig}`, (r) => (r.StopSignal = sig));
      }
      case 'healthcheck': {
        const h = c.health;
        const hc: Record<string, unknown> = { Test: h.test };
        if (h.interval) hc.Interval = h.interval;
        if (h.timeout) hc.Timeout = h.timeout;
        if (h.startPeriod) hc.StartPeriod = h.startPeriod;
        if (h.startInterval) hc.StartInterval = h.startInterval;
        if (h.retries) hc.Retries = h.retries;
        return this.configStep(healthcheckText(hc), (r) => (r.Healthcheck = hc));
      }
      case 'onbuild':
        return this.configStep(`ONBUILD ${c.expression}`, (r) => (r.OnBuild = [...(r.OnBuild ?? []), c.expression]));
      case 'shell':
        return this.configStep(`SHELL ${plainList(c.shell)}`, (r) => (r.Shell = c.shell));
      case 'cmd': {
        const cmd = this.commandLine(c);
        this.st.cmdSet = true;
        return this.configStep(`CMD ${quoteList(cmd ?? [])}`, (r) => (r.Cmd = cmd));
      }
      case 'entrypoint': {
        const ep = this.commandLine(c);
        const resetCmd = !this.st.cmdSet;
        return this.configStep(`ENTRYPOINT ${quoteList(ep ?? [])}`, (r) => {
          r.Entrypoint = ep;
          // an inherited CMD does not survive a new ENTRYPOINT
          if (resetCmd) r.Cmd = null;
        });
      }
      case 'run':
        return this.runStep(c, vertex);
      case 'copy':
        return this.copyStep(c, 'COPY');
      case 'add':
        return this.copyStep(c, 'ADD');
    }
  }

  private commandLine(c: CommandOf<'cmd'> | CommandOf<'entrypoint'> | CommandOf<'run'>): string[] | null {
    if (c.cmdLine === null) return null;
    if (!c.prependShell) return c.cmdLine;
    let line = c.cmdLine.join(' ');
    if (c.files.length > 0) {
      const only = /^<<-?\s*["']?[A-Za-z0-9_]+["']?\s*$/.test(line.trim());
      const body = (f: { data: string; chomp: boolean }) => (f.chomp ? f.data.replace(/^\t+/gm, '') : f.data);
      line = only && c.files.length === 1 ? body(c.files[0]!) : [line, ...c.files.map((f) => body(f) + f.name)].join('\n');
    }
    return [...this.shell, line];
  }

  // ---- commit machinery ----

  private key(kind: string, text: string, content = ''): string {
    return sha(JSON.stringify([this.st.imageId ?? 'scratch', kind, text, this.argsInEffect(), content]));
  }

  /** A cached result for the key, restored into the state; false when the step must run. */
  private async tryCache(key: string): Promise<boolean> {
    if (this.env.noCache) return false;
    const hit = this.env.cache.get(key);
    if (!hit || !this.env.images.store.get(hit.image)) return false;
    const rec = await this.env.images.resolve(hit.image);
    this.setImage(hit.image, rec.config);
    this.env.out.text(` ---> Using cache\n ---> ${shortId(hit.image)}\n`);
    return true;
  }

  /**
   * `--cache-from`, as dockerd's classic builder: an image whose history and layers start like
   * the current state's and whose next history entry is this step stands in for running it.
   */
  private async tryCacheFrom(key: string, createdBy: string, description: string, mutate: (run: any, cfg: any) => void): Promise<boolean> {
    if (this.env.noCache || this.env.cacheFrom.length === 0) return false;
    const hist: any[] = this.st.config.history ?? [];
    const diffs: string[] = this.st.config.rootfs?.diff_ids ?? [];
    for (const c of this.env.cacheFrom) {
      const ch: any[] = c.config.history ?? [];
      const cd: string[] = c.config.rootfs?.diff_ids ?? [];
      if (ch.length <= hist.length || ch[hist.length].created_by !== createdBy) continue;
      if (!hist.every((h, i) => h.created_by === ch[i].created_by && !!h.empty_layer === !!ch[i].empty_layer)) continue;
      if (!diffs.every((d, i) => cd[i] === d)) continue;
      const next = ch[hist.length];
      const parent = this.st.imageId;
      let id: string;
      let size = 0;
      if (ch.length === hist.length + 1) {
        id = c.id;
      } else {
        const cfg = structuredClone(this.st.config);
        cfg.config = structuredClone(this.st.run);
        mutate(cfg.config, cfg);
        cfg.created = next.created ?? new Date().toISOString();
        cfg.history = [...hist, next];
        cfg.rootfs = { type: 'layers', diff_ids: [...diffs] };
        let layer: { digest: string; size: number; mediaType: string } | undefined;
        if (!next.empty_layer) {
          const l = c.layers[diffs.length];
          if (!l || !cd[diffs.length]) continue;
          layer = l;
          size = l.size;
          cfg.rootfs.diff_ids.push(cd[diffs.length]);
        }
        id = await this.env.serial(() => this.env.images.addBuiltImage(parent, cfg, layer));
      }
      const now = new Date().toISOString();
      await this.env.cache.update((entries) => {
        entries[key] = { image: id, parent: parent ?? '', description, created: now, lastUsed: now, size };
      });
      this.setImage(id, (await this.env.images.resolve(id)).config);
      this.env.out.text(` ---> Using cache\n ---> ${shortId(id)}\n`);
      return true;
    }
    return false;
  }

  private setImage(id: string, config: any): void {
    const cfg = structuredClone(config);
    cfg.config ??= {};
    this.st.imageId = id;
    this.st.config = cfg;
    this.st.run = cfg.config;
  }

  /** Makes the step's image and records it in the cache. */
  private async commit(key: string, createdBy: string, description: string, mutate: (run: any, cfg: any) => void, layer?: { digest: string; size: number }): Promise<void> {
    const cfg = structuredClone(this.st.config);
    cfg.config = structuredClone(this.st.run);
    mutate(cfg.config, cfg);
    const created = new Date().toISOString();
    cfg.created = created;
    cfg.history = [...(cfg.history ?? [])];
    const empty = !layer || layer.digest === EMPTY_LAYER_DIGEST;
    cfg.history.push({ created, created_by: createdBy, ...(empty ? { empty_layer: true } : {}) });
    cfg.rootfs = { type: 'layers', diff_ids: [...(cfg.rootfs?.diff_ids ?? [])] };
    if (!empty) cfg.rootfs.diff_ids.push(layer!.digest);
    const parent = this.st.imageId;
    const id = await this.env.serial(() => this.env.images.addBuiltImage(parent, cfg, empty ? undefined : layer));
    const now = new Date().toISOString();
    await this.env.cache.update((entries) => {
      entries[key] = { image: id, parent: parent ?? '', description, created: now, lastUsed: now, size: empty ? 0 : layer!.size };
    });
    this.setImage(id, cfg);
    this.env.out.text(` ---> ${shortId(id)}\n`);
  }

  private async configStep(comment: string, mutate: (run: any) => void, mutateCfg: (cfg: any) => void = () => undefined): Promise<boolean> {
    const createdBy = nopCreatedBy(this.shell, comment);
    const key = this.key('nop', createdBy);
    const apply = (r: any, cfg: any) => {
      mutate(r);
      mutateCfg(cfg);
    };
    if ((await this.tryCache(key)) || (await this.tryCacheFrom(key, createdBy, comment, apply))) return true;
    await this.commit(key, createdBy, comment, apply);
    return false;
  }

  /** The image as a scratch-based stage's first RUN needs it: registered even with no layers. */
  private async ensureImage(): Promise<string> {
    if (!this.st.imageId) this.st.imageId = await this.env.serial(() => this.env.images.addBuiltImage(undefined, this.st.config));
    return this.st.imageId;
  }

  // ---- WORKDIR ----

  private async workdir(p: string): Promise<boolean> {
    const cur = this.st.run.WorkingDir || '/';
    const dir = path.posix.normalize(path.posix.isAbsolute(p) ? p : path.posix.join(cur, p));
    const resolved = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
    const createdBy = nopCreatedByString(this.shell, `WORKDIR ${resolved}`);
    const key = this.key('workdir', createdBy);
    if ((await this.tryCache(key)) || (await this.tryCacheFrom(key, createdBy, `WORKDIR ${resolved}`, (r) => (r.WorkingDir = resolved)))) return true;
    const view = await ImageFs.open(this.env.images, this.st.imageId, this.env.tmpDir);
    let layer: { digest: string; size: number } | undefined;
    try {
      if (!(await view.stat(resolved))?.isDirectory() && resolved !== '/') {
        const entries = new Map<string, LayerEntry>();
        const name = resolved.slice(1);
        entries.set(name, { name, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: new Date() });
        await addParents(entries, view, { uid: 0, gid: 0 });
        layer = await this.env.images.content.ingest(layerTar(entries.values()));
      }
    } finally {
      await view.close();
    }
    await this.commit(key, createdBy, `WORKDIR ${resolved}`, (r) => (r.WorkingDir = resolved), layer);
    return false;
  }

  // ---- RUN ----

  private async runStep(c: CommandOf<'run'>, vertex: number): Promise<boolean> {
    const cmd = this.commandLine(c)!;
    if (cmd.length === 0) throw new BuildError('RUN requires at least one argument');
    const inEffect = this.argsInEffect();
    const shown = inEffect.filter((a) => !BUILTIN_ARGS.has(a.slice(0, a.indexOf('='))));
    const saveCmd = shown.length ? [`|${shown.length}`, ...shown, ...cmd] : cmd;
    const createdBy = saveCmd.join(' ');
    const network = c.network === 'default' ? this.env.networkMode || 'default' : c.network;
    let mounts;
    try {
      mounts = c.mounts ?? resolveMounts(c.mountSpecs, (w) => this.expand(w));
    } catch (e) {
      throw new BuildError((e as Error).message);
    }
    const mountEnv = this.mountEnv();
    const key = this.key('run', createdBy, JSON.stringify([network, c.mountSpecs, await mountsKey(mounts, mountEnv).catch((e) => {
      throw new BuildError((e as Error).message);
    })]));
    if ((await this.tryCache(key)) || (await this.tryCacheFrom(key, createdBy, `RUN ${cmd.join(' ')}`, () => undefined))) return true;
    const image = await this.ensureImage();
    const run = this.st.run;
    let prepared;
    try {
      prepared = await prepareMounts(mounts, mountEnv);
    } catch (e) {
      if (e instanceof MountError) throw new BuildError(e.message);
      throw e;
    }
    const body = {
      Image: image,
      Cmd: cmd,
      Entrypoint: [],
      Env: [...(run.Env ?? []), ...inEffect, ...prepared.env],
      WorkingDir: run.WorkingDir ?? '',
      User: run.User ?? '',
      Labels: { [BUILD_STEP_LABEL]: 'true' },
      Healthcheck: { Test: ['NONE'] },
      HostConfig: {
        NetworkMode: network === 'default' ? '' : network,
        Mounts: prepared.mounts,
        Tmpfs: prepared.tmpfs,
        [SKIP_IMAGE_VOLUMES]: true,
      },
    };
    const containers = this.env.containers;
    let id: string;
    try {
      id = (await containers.create(body, null)).Id;
    } catch (e) {
      await prepared.cleanup();
      throw e;
    }
    this.env.out.text(` ---> Running in ${shortId(id)}\n`);
    let code: number;
    let layer: { digest: string; size: number };
    let ok = false;
    try {
      const done = containers.wait(id, 'next-exit');
      const kill = () => void containers.kill(id, 'SIGKILL').catch(() => undefined);
      this.env.signal?.addEventListener('abort', kill, { once: true });
      await containers.start(id);
      const demux = new Demuxer((_s, payload) => this.env.out.log(vertex, payload.toString('utf8')));
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          demux.push(chunk);
          cb();
        },
      });
      await containers.logs(id, sink, { stdout: true, stderr: true, follow: true, timestamps: false });
      code = (await done).StatusCode;
      this.env.signal?.removeEventListener('abort', kill);
      if (this.env.signal?.aborted) throw new BuildError('build cancelled');
      if (code !== 0) {
        throw new BuildError(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
      }
      const upper = this.env.images.snapshots.upperDir(id);
      if (prepared.targets.length) await removeMountStubs(upper, await this.env.images.layerDirs(image), prepared.targets);
      layer = await this.env.images.content.ingest(upperDirTar(upper));
      ok = true;
    } finally {
      // dockerd's dispatch(): a step's container goes after success with `rm`, always with
      // `forcerm`; a failed one stays for inspection. A cancelled build leaves nothing behind.
      if (ok ? this.env.rm || this.env.forceRm : this.env.forceRm || this.env.signal?.aborted) {
        await containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
        this.env.out.text(`Removing intermediate container ${shortId(id)}\n`);
      }
      await prepared.cleanup();
    }
    await this.commit(key, createdBy, `RUN ${cmd.join(' ')}`, () => undefined, layer);
    return false;
  }

  private mountEnv(): RunMountEnv {
    return {
      ctx: this.env.ctx,
      images: this.env.images,
      cacheRoot: this.env.cacheMountsDir,
      tmpDir: this.env.tmpDir,
      workdir: this.st.run.WorkingDir || '/',
      secrets: this.env.secrets,
      sshSockets: this.env.sshSockets,
      fromImage: async (ref) => {
        const st = this.env.stageRef(ref, this.index);
        if (st) return (await st).imageId;
        const named = this.env.named(ref);
        return this.env.image(named?.kind === 'image' ? named.ref : ref);
      },
      fromContext: (ref) => {
        if (this.env.stageRef(ref, this.index)) return undefined;
        const named = this.env.named(ref);
        return named?.kind === 'local' ? named.ctx : undefined;
      },
      hashContext: (rels, ctx = this.env.ctx) => hashSources(contextTree(ctx), rels),
    };
  }

  // ---- COPY / ADD ----

  private async identity(chown: string, view: ImageFs): Promise<{ uid: number; gid: number } | undefined> {
    if (!chown) return undefined;
    const spec = this.expand(chown);
    const numeric = /^\d+(:\d+)?$/.test(spec);
    try {
      const u = getExecUser(spec, numeric ? undefined : await view.readText('/etc/passwd'), numeric ? undefined : await view.readText('/etc/group'));
      return { uid: u.uid, gid: spec.includes(':') ? u.gid : numeric ? u.uid : u.gid };
    } catch (e) {
      throw new BuildError(`unable to convert uid/gid chown string to host mapping: ${(e as Error).message}`);
    }
  }

  /** `tree`: where the sources come from instead of the context or `--from` (a named context as FROM). */
  private async copyStep(c: CommandOf<'copy'> | CommandOf<'add'>, name: 'COPY' | 'ADD', override?: SourceTree): Promise<boolean> {
    const fail = (msg: string): never => {
      throw new BuildError(`${name} failed: ${msg}`);
    };
    const srcs = c.sources.sourcePaths.map((s) => this.expand(s));
    const rawDest = this.expand(c.sources.destPath);
    const chmodText = c.chmod ? this.expand(c.chmod) : '';
    let chmod: number | undefined;
    if (chmodText) {
      if (!/^[0-7]{1,4}$/.test(chmodText)) throw new BuildError(`invalid chmod parameter: ${chmodText}`);
      chmod = parseInt(chmodText, 8);
    }
    // ADD of a git repository (BuildKit's rule: ADD only; COPY takes the same text as a path)
    const gits = c.kind === 'add' ? srcs.filter(isGitUrl) : [];
    const isUrl = (s: string) => /^https?:\/\//.test(s) && !gits.includes(s);
    const urls = srcs.filter(isUrl);
    const locals = srcs.filter((s) => !isUrl(s) && !gits.includes(s));
    if (urls.length && c.kind === 'copy') fail(`source can't be a URL for COPY`);
    const checksum = c.kind === 'add' && c.checksum ? this.expand(c.checksum) : '';
    if (checksum && (urls.length + gits.length !== 1 || locals.length > 0)) throw new BuildError('checksum can\'t be specified for multiple sources or a local source');
    // for a git source the checksum is the commit (full or abbreviated), as BuildKit
    if (checksum && gits.length && !/^[0-9a-f]{7,40}$/.test(checksum)) throw new BuildError(`invalid checksum for a git source: ${checksum}: give the commit ID`);
    if (checksum && urls.length && !/^sha(256|384|512):[0-9a-f]+$/.test(checksum)) throw new BuildError(`invalid checksum digest format: ${checksum}`);
    const keepGitDir = c.kind === 'add' && c.keepGitDir;
    const agent = this.env.sshSockets.get('default');
    const repos: Array<{ url: string; commit: string | undefined; root: string }> = [];
    for (const url of gits) {
      let commit: string | undefined;
      try {
        commit = await resolveGitCommit(url, this.env.tmpDir, undefined, { agent });
      } catch (e) {
        fail((e as Error).message);
      }
      if (commit && checksum && !commit.startsWith(checksum)) fail(`expected checksum to match ${checksum}, got ${commit}`);
      repos.push({ url, commit, root: '' });
    }
    const scratchDirs: string[] = [];
    // a repository whose commit only a clone tells (an abbreviated ID) is cloned before the cache lookup
    const cloneRepos = async () => {
      for (const g of repos) {
        if (g.root) continue;
        const dir = path.join(this.env.tmpDir, 'build-add-git-' + randomBytes(6).toString('hex'));
        scratchDirs.push(dir);
        try {
          g.root = await cloneGit(g.url, dir, undefined, { agent });
        } catch (e) {
          fail((e as Error).message);
        }
        const head = await gitHead(dir);
        if (checksum && !head.startsWith(checksum)) fail(`expected checksum to match ${checksum}, got ${head}`);
        g.commit ??= head;
        // BuildKit leaves the repository's .git out unless --keep-git-dir
        if (!keepGitDir) await fsp.rm(path.join(dir, '.git'), { recursive: true, force: true });
      }
    };

    // remote files: the checksum names their content up front; without one they are fetched to hash them
    const remote = urls.map((url) => ({ url, name: urlFileName(url, fail), data: undefined as Buffer | undefined, mtime: new Date() }));
    const fetchRemote = async () => {
      for (const r of remote) {
        if (r.data) continue;
        const got = await download(r.url, fail);
        r.data = got.data;
        r.mtime = got.mtime;
        if (checksum) {
          const [algo] = checksum.split(':');
          const actual = `${algo}:${createHash(algo!).update(r.data).digest('hex')}`;
          if (actual !== checksum) fail(`digest mismatch ${checksum}: ${actual}`);
        }
      }
    };
    if (!checksum) await fetchRemote();
    const remoteHash = remote.map((r) => `${r.url}@${checksum || sha(r.data!.toString('latin1'))}`).join('\n');
    // where the sources come from, and what identifies their content in the cache key
    let tree: SourceTree;
    let fromId = '';
    let fromView: ImageFs | undefined;
    let from = c.kind === 'copy' && c.from ? this.expand(c.from) : '';
    const stage = from ? this.env.stageRef(from, this.index) : undefined;
    const named = from && !stage ? this.env.named(from) : undefined;
    if (override || named?.kind === 'local') {
      // files of a named context are hashed like the main context's
      tree = override ?? contextTree((named as { ctx: BuildContext }).ctx);
      from = '';
    } else if (from) {
      let id: string | undefined;
      if (stage) id = (await stage).imageId;
      else {
        try {
          id = await this.env.image(named?.kind === 'image' ? named.ref : from);
        } catch (e) {
          throw new BuildError(`invalid from flag value ${from}: ${(e as Error).message}`);
        }
      }
      fromId = id ?? 'scratch';
      fromView = await ImageFs.open(this.env.images, id, this.env.tmpDir);
      tree = dirTree(fromView.root);
    } else {
      tree = contextTree(this.env.ctx);
    }
    try {
      if (repos.some((g) => !g.commit)) await cloneRepos();
      const gitHash = repos.map((g) => `git:${g.url}@${g.commit}${keepGitDir ? '+git-dir' : ''}`).join('\n');
      const matched: string[] = [];
      for (const s of locals) {
        const m = await expandSource(tree, s);
        if (m.length === 0) {
          if (/[*?[]/.test(s)) continue;
          fail(from ? `stat ${s}: file does not exist` : `file not found in build context or excluded by .dockerignore: stat ${s}: file does not exist`);
        }
        matched.push(...m);
      }
      const inline = c.sources.sourceContents.map((f) => ({ name: f.path, data: Buffer.from(f.expand ? this.expand(f.data) : f.data) }));
      const count = matched.length + inline.length + remote.length + repos.length;
      if (count === 0) fail('no source files were specified');
      if (count > 1 && !rawDest.endsWith('/')) {
        fail(`When using ${name} with more than one source file, the destination must be a directory and end with a /`);
      }
      const content = from ? fromId + '\n' + matched.join('\n') : await hashSources(tree, matched);
      const inlineHash = inline.map((f) => f.name + ':' + sha(f.data.toString('latin1'))).join(',') + remoteHash + gitHash;
      const kindWord = count > 1 ? 'multi' : repos.length === 1 ? 'dir' : matched.length === 1 && (await tree.lstat(await resolveFollow(tree, matched[0]!)))?.type === 'dir' ? 'dir' : 'file';
      const srcHash = `${kindWord}:${sha(content + inlineHash)}`;
      const createdBy = nopCreatedByString(this.shell, `${name} ${srcHash} in ${rawDest} `);
      const workdir = this.st.run.WorkingDir || '/';
      const exclude = c.exclude.map((e) => this.expand(e));
      const key = this.key(name.toLowerCase(), JSON.stringify([createdBy, c.chown, chmodText, workdir, c.kind === 'add' ? c.unpack ?? null : null, exclude]), content + inlineHash);
      if ((await this.tryCache(key)) || (await this.tryCacheFrom(key, createdBy, `${name} ${srcs.join(' ')} ${rawDest}`, () => undefined))) return true;
      const dest = path.posix.isAbsolute(rawDest) ? rawDest : path.posix.join(workdir, rawDest) + (rawDest.endsWith('/') || rawDest === '.' ? '/' : '');
      const view = await ImageFs.open(this.env.images, this.st.imageId, this.env.tmpDir);
      const scratch: string[] = [];
      let layer: { digest: string; size: number };
      try {
        const who = await this.identity(c.chown, view);
        const sources = [];
        for (const rel of matched) {
          if (c.kind === 'add' && c.unpack !== false) {
            const real = await resolveFollow(tree, rel);
            const st = await tree.lstat(real);
            if (st?.type === 'file' && (await isArchive(await tree.file(real)))) {
              const dir = path.join(this.env.tmpDir, 'build-add-' + randomBytes(6).toString('hex'));
              scratch.push(dir);
              await untar(await tree.file(real), dir);
              sources.push({ tree: dirTree(dir), rel: '', archive: true });
              continue;
            }
          }
          sources.push({ tree, rel });
        }
        await cloneRepos();
        for (const g of repos) sources.push({ tree: dirTree(g.root), rel: '', archive: true });
        await fetchRemote();
        const files = [...inline, ...remote.map((r) => ({ name: r.name, data: r.data!, mode: 0o600, mtime: r.mtime }))];
        const entries = await planCopy({ sources, inline: files, dest, uid: who?.uid ?? 0, gid: who?.gid ?? 0, chowned: !!who, chmod, image: view, exclude });
        layer = await this.env.images.content.ingest(layerTar(entries.values()));
      } finally {
        await view.close();
        for (const d of scratch) await fsp.rm(d, { recursive: true, force: true }).catch(() => undefined);
      }
      await this.commit(key, createdBy, `${name} ${srcs.join(' ')} ${rawDest}`, () => undefined, layer);
      return false;
    } finally {
      await fromView?.close();
      for (const d of scratchDirs) await fsp.rm(d, { recursive: true, force: true });
    }
  }
}

/** `COPY . /`: a local named context used as a stage's base. */
function copyAllCommand(): CommandOf<'copy'> {
  const c = parseInstruction(astRoot(parseDockerfile('COPY . /\n')).children[0]!);
  return c as CommandOf<'copy'>;
}

/** The file name ADD gives a URL's content: the last path component. */
function urlFileName(url: string, fail: (m: string) => never): string {
  let name = '';
  try {
    name = path.posix.basename(new URL(url).pathname);
  } catch {
    fail(`invalid URL: ${url}`);
  }
  if (!name || name === '/') fail(`cannot determine filename from url: ${url}`);
  return decodeURIComponent(name);
}

async function download(url: string, fail: (m: string) => never): Promise<{ data: Buffer; mtime: Date }> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    return fail(`failed to GET ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) fail(`failed to GET ${url} with status ${res.status} ${res.statusText}`);
  const data = Buffer.from(await res.arrayBuffer());
  const lm = res.headers.get('last-modified');
  const mtime = lm && !Number.isNaN(Date.parse(lm)) ? new Date(lm) : new Date();
  return { data, mtime };
}

/** Content identity of COPY sources from the context index: paths, types, modes, file hashes. */
async function hashSources(tree: SourceTree, rels: string[]): Promise<string> {
  const h = createHash('sha256');
  const walk = async (rel: string, shown: string): Promise<void> => {
    const st = await tree.lstat(rel);
    if (!st) return;
    h.update(`${shown}\0${st.type}\0${st.mode}\0${st.hash ?? ''}\0${st.linkname ?? ''}\n`);
    if (st.type === 'dir') for (const n of await tree.children(rel)) await walk(rel ? `${rel}/${n}` : n, `${shown}/${n}`);
  };
  for (const r of rels) await walk(await resolveFollow(tree, r), r);
  return h.digest('hex');
}

async function isArchive(file: string): Promise<boolean> {
  const fh = await fsp.open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
    if (bytesRead >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return true;
    if (bytesRead >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
    return bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

function untar(file: string, dir: string): Promise<void> {
  return fsp.mkdir(dir, { recursive: true }).then(
    () =>
      new Promise<void>((resolve, reject) => {
        const p = spawn('/bin/tar', ['-xf', file, '-C', dir, '--no-overwrite-dir'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('error', reject);
        p.on('close', (code) => (code === 0 ? resolve() : reject(new BuildError(`ADD failed: could not unpack ${path.basename(file)}: ${err.trim()}`))));
      }),
  );
}

/** `80`, `80/udp`, `8000-8002/tcp` to ExposedPorts keys. */
function parsePortSpec(spec: string): string[] {
  const [range, proto = 'tcp'] = spec.split('/');
  const m = /^(\d+)(?:-(\d+))?$/.exec(range ?? '');
  if (!m) throw new BuildError(`invalid containerPort: ${range}`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (hi < lo) throw new BuildError(`invalid range specified for container port: ${range}`);
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto.toLowerCase()}`);
  return out;
}

/** Only the host's platform can be built here. */
export function checkPlatform(p: string): void {
  if (!p) return;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch;
  const [os, a] = p.toLowerCase().split('/');
  const norm = a === 'x86_64' ? 'amd64' : a === 'aarch64' ? 'arm64' : a;
  if (os !== 'linux' || (norm && norm !== arch)) {
    throw new BuildError(`platform ${p} is not supported: berth builds only for the host platform linux/${arch}`);
  }
}
