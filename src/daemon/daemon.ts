import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { layout, type DaemonConfig } from './config.js';
import { Router } from './api/router.js';
import { ApiServer } from './api/server.js';
import { registerContainerRoutes } from './api/containers-routes.js';
import { registerExecRoutes } from './api/exec-routes.js';
import { registerSystemRoutes } from './api/system-routes.js';
import { registerImageRoutes } from './api/images-routes.js';
import { registerArchiveRoutes } from './api/archive-routes.js';
import { ArchiveService } from './services/archive-service.js';
import { registerRegistryRoutes } from './api/registry-routes.js';
import { registerContainerOpsRoutes } from './api/container-ops-routes.js';
import { ContainerOps } from './services/container-ops.js';
import { emitImageEvents } from './services/image-events.js';
import { StatsService } from './services/stats-service.js';
import { UpdateService } from './services/update-service.js';
import { PruneService } from './services/prune-service.js';
import { BuildCacheStore } from './stores/build-cache.js';
import { BuildService } from './services/build/build-service.js';
import { SshSessions } from './services/build/ssh-sessions.js';
import { BuildCacheService } from './services/build/build-cache-service.js';
import { registerBuildRoutes } from './api/build-routes.js';
import { registerPruneRoutes } from './api/prune-routes.js';
import { ContainerService } from './services/container-service.js';
import { VolumeService } from './services/volume-service.js';
import { registerVolumeRoutes } from './api/volume-routes.js';
import { NetworkService } from './services/network-service.js';
import { registerNetworkRoutes } from './api/network-routes.js';
import { ExecService } from './services/exec-service.js';
import { HealthService } from './services/health-service.js';
import { LogRotation } from './services/log-rotation.js';
import { ImageService } from './services/image-service.js';
import { EventBus } from './services/events.js';
import { Runtime } from './system/runtime.js';
import { ExitWatcher } from './system/exit-watcher.js';
import { createLogger, type Logger } from './logger.js';
import { RegistryHosts } from './registry/hosts.js';
import { BlobSources } from './registry/blob-sources.js';
import { configureRegistry } from './registry/context.js';
import { Limiter } from './registry/limiter.js';
import { BERTH_VERSION } from './api/system-routes.js';
import { ClusterService } from './services/swarm/cluster-service.js';
import { pull } from './registry/pull.js';
import { parseNormalized, withDefaultTag } from '../common/reference.js';
import { NodeService } from './services/swarm/node-service.js';
import { ServiceService } from './services/swarm/service-service.js';
import { TaskContainers } from './services/swarm/task-containers.js';
import { OverlayAgent } from './services/swarm/overlay-agent.js';
import { SwarmNetworks } from './services/swarm/swarm-networks.js';
import { SwarmAttachments } from './services/swarm/attachments.js';
import { overlaySettings } from './services/swarm/container-networks.js';
import { decodeAuthHeader } from '../common/registry-auth.js';
import { swarmLookup } from './services/swarm/overlay-dns.js';
import { registerSwarmRoutes } from './api/swarm-routes.js';
import { registerNodeRoutes } from './api/node-routes.js';
import { registerServiceRoutes } from './api/service-routes.js';
import { registerSecretRoutes } from './api/secret-routes.js';

/** Where the repository's shipped assets (seccomp profile) are, relative to the compiled file. */
export const ASSETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../assets');

export class Daemon {
  readonly log: Logger;
  private server?: ApiServer;
  private sshSessions?: SshSessions;
  private exits?: ExitWatcher;
  containers?: ContainerService;
  network?: NetworkService;
  cluster?: ClusterService;

  constructor(readonly cfg: DaemonConfig) {
    this.log = createLogger(cfg.logLevel);
  }

  async start(): Promise<void> {
    const cfg = this.cfg;
    const l = layout(cfg);
    for (const d of [cfg.dataRoot, cfg.execRoot, l.containersDir, l.tmpDir, l.runcRoot, l.exitDir, l.socketDir, l.bundlesDir, l.execExitDir, l.execDir]) {
      await fs.promises.mkdir(d, { recursive: true, mode: 0o710 });
    }
    await this.writePidfile();
    const runtimeCfg = cfg.runtimes[cfg.defaultRuntime];
    if (!runtimeCfg) throw new Error(`default runtime ${cfg.defaultRuntime} is not configured: add it with --add-runtime ${cfg.defaultRuntime}=/path/to/runtime`);
    const runtime = new Runtime({
      runtimePath: runtimeCfg.path,
      runtimeArgs: runtimeCfg.runtimeArgs ?? [],
      conmonPath: cfg.conmonPath,
      runcRoot: l.runcRoot,
      exitDir: l.exitDir,
      execExitDir: l.execExitDir,
      socketDir: l.socketDir,
    });
    const events = new EventBus();
    const images = new ImageService(l);
    await images.init();
    emitImageEvents(images, events);
    const registryHosts = new RegistryHosts(cfg.registry);
    configureRegistry(images, {
      hosts: registryHosts,
      sources: new BlobSources(l.blobSourcesFile),
      downloads: new Limiter(cfg.registry.maxConcurrentDownloads),
      uploads: new Limiter(cfg.registry.maxConcurrentUploads),
      downloadAttempts: cfg.registry.maxDownloadAttempts,
    });
    this.exits = new ExitWatcher(l.exitDir);
    this.exits.start();
    const seccompProfile = JSON.parse(await fs.promises.readFile(path.join(ASSETS_DIR, 'seccomp-default.json'), 'utf8')) as unknown;
    const network = new NetworkService({ cfg, layout: l, events, log: this.log });
    await network.init();
    this.network = network;
    const volumes = new VolumeService(l.volumesDir, events, this.log);
    await volumes.init();
    const containers = new ContainerService({ cfg, layout: l, images, runtime, exits: this.exits, events, seccompProfile, log: this.log, network, volumes });
    this.containers = containers;
    network.setContainers({
      find: (ref) => {
        const c = containers.get(ref);
        return { id: c.id, rec: c.rec, running: c.running };
      },
      all: () => containers.all().map((rec) => ({ id: rec.id, rec, running: rec.state.Status === 'running' || rec.state.Status === 'paused' })),
      save: (id) => containers.saveRecord(id),
      useEmbeddedDns: (id) => containers.useEmbeddedDns(id),
    });
    const execs = new ExecService(containers, runtime, l.execDir);
    containers.addLifecycleHooks(new HealthService(containers, execs, this.log));
    containers.addLifecycleHooks(new LogRotation(containers, runtime, l.bundlesDir, this.log));
    await containers.restore();
    containers.startMonitor();

    const taskContainers = new TaskContainers(containers, path.join(cfg.execRoot, 'swarm-files'), async (ref, auth) => {
      await pull(images, withDefaultTag(parseNormalized(ref)), () => undefined, { creds: decodeAuthHeader(auth) });
    });
    const overlay: OverlayAgent = new OverlayAgent({
      netnsOfTask: (taskId: string, networkId: string): string | undefined => {
        // `ctr:<id>`: a plain container on an attachable network (until `network disconnect`).
        const c = taskId.startsWith('ctr:')
          ? containers.all().find((r) => r.id === taskId.slice(4) && r.state.Status === 'running' && attachments.wants(r.id, networkId))
          : taskContainers.list().find((x) => x.taskId === taskId && x.running);
        return c ? network.netnsOf(c.id) : undefined;
      },
      chainPrefix: cfg.network.chainPrefix,
      log: this.log,
    });
    const attachments: SwarmAttachments = new SwarmAttachments({
      file: path.join(cfg.dataRoot, 'swarm-attachments.json'),
      // As the managers have them now: a network made a moment ago is attachable at once, also on a worker.
      networks: () =>
        cluster.currentNetworks().catch((e) => {
          // No manager answers: what the last heartbeat brought still names the networks.
          this.log('warn', `swarm networks: ${(e as Error).message}; using the last cluster view`);
          return overlay.reply()?.networks ?? [];
        }),
      isLocalNetwork: (ref) => {
        try {
          network.inspect(ref);
          return true;
        } catch {
          return false; // not found locally: a swarm network may have the name
        }
      },
      containers: () => containers.all().map((r) => ({ id: r.id, name: r.name.replace(/^\//, ''), running: r.state.Status === 'running', labels: r.config.Labels ?? {} })),
      containerId: (ref) => containers.get(ref).id,
      view: () => overlay.reply(),
    });
    const cluster = new ClusterService({ dataRoot: cfg.dataRoot, runDir: l.swarmRunDir, swarm: cfg.swarm, engineVersion: BERTH_VERSION, runtime: taskContainers, overlay, attachments: () => attachments.wanted(), log: this.log });
    const taskOf = (containerId: string) => taskContainers.list().find((c) => c.id === containerId)?.taskId;
    network.setExtraNetworks((id, running) => {
      if (!cluster.nodeId) return {};
      const task = taskOf(id);
      const plain = task ? undefined : attachments.networksOfContainer(id);
      if (!task && !plain?.length) return {};
      const name = containers.get(id).rec.name.replace(/^\//, '');
      return overlaySettings(overlay.reply(), cluster.nodeId, { id, name, endpointPrefix: task ?? `ctr:${id}`, networkIds: plain }, running);
    });
    network.setExtraDns({
      // Every task (and container on a swarm network) gets the embedded DNS (docker's 127.0.0.11), so it can find services.
      wants: (id) => !!taskOf(id) || attachments.has(id),
      lookup: (id, name) => {
        const t = taskOf(id) ?? (attachments.has(id) ? `ctr:${id}` : undefined);
        return t ? swarmLookup(overlay.reply(), t, name) : undefined;
      },
    });
    this.cluster = cluster;

    const router = new Router();
    const daemonId = await this.engineId(cfg.dataRoot);
    let runtimeVersion: Promise<string> | undefined;
    registerSystemRoutes(router, {
      cfg,
      events,
      daemonId,
      counts: async () => {
        const all = containers.all();
        return {
          containers: all.length,
          running: all.filter((c) => c.state.Status === 'running').length,
          paused: all.filter((c) => c.state.Status === 'paused').length,
          stopped: all.filter((c) => c.state.Status !== 'running' && c.state.Status !== 'paused').length,
          images: (await images.list({})).length,
        };
      },
      swarmInfo: () => cluster.info(),
      // asked once: spawning the runtime made every GET /version cost 5-8 ms
      runtimeVersion: () =>
        (runtimeVersion ??= new Promise((resolve) =>
          execFile(runtimeCfg.path, ['--version'], (err, out) => resolve(err ? 'unknown' : (/version (\S+)/.exec(out)?.[1] ?? 'unknown'))),
        )),
    });
    registerContainerRoutes(router, containers, (body) => attachments.prepareCreate(body));
    registerExecRoutes(router, execs);
    registerNetworkRoutes(
      router,
      network,
      new SwarmNetworks(
        cluster,
        () => overlay.reply(),
        (taskId, networkId) => {
          const id = taskId.startsWith('ctr:')
            ? containers.all().find((r) => r.id === taskId.slice(4) && attachments.wants(r.id, networkId))?.id
            : taskContainers.list().find((x) => x.taskId === taskId)?.id;
          return id ? { id, name: containers.get(id).rec.name.replace(/^\//, '') } : undefined;
        },
        async (ref, container, endpoint) => {
          const att = await attachments.connect(ref, container, endpoint);
          if (!att) return false;
          // As dockerd, a running container has its interface when the call returns (within a few heartbeats).
          if (att.running && !(await attachments.settle(att, (id, ms) => overlay.waitForEndpoint(id, ms), 15_000))) {
            this.log('warn', `network connect: container ${att.containerId} is not on network ${att.networkId} yet; it joins when the managers answer`);
          }
          if (att.running) await network.ensureEmbeddedDns(att.containerId);
          return true;
        },
        async (ref, container) => {
          if (!(await attachments.disconnect(ref, container))) return false;
          // At once, not at the next heartbeat: the container's interface goes before the call returns.
          await overlay.reapply();
          return true;
        },
      ),
    );
    registerImageRoutes(router, images);
    registerVolumeRoutes(router, volumes);
    registerArchiveRoutes(router, new ArchiveService(containers, this.log));
    registerRegistryRoutes(router, images);
    registerContainerOpsRoutes(router, new ContainerOps(containers, images, events, l.tmpDir), new StatsService(containers), new UpdateService(containers, runtime));
    const prune = new PruneService(containers, images, events, volumes);
    registerPruneRoutes(router, prune);
    const buildCache = new BuildCacheStore(l.builderDir);
    await buildCache.init();
    const buildCacheService = new BuildCacheService(buildCache, images);
    prune.setBuildCache(() => buildCacheService.records());
    this.sshSessions = new SshSessions(l.tmpDir);
    registerBuildRoutes(router, new BuildService({ images, containers, cache: buildCache, tmpDir: l.tmpDir, cacheMountsDir: path.join(l.builderDir, 'cache-mounts') }), buildCacheService, this.sshSessions);
    registerSwarmRoutes(router, cluster);
    registerNodeRoutes(router, new NodeService(cluster));
    registerServiceRoutes(router, new ServiceService(cluster, (taskId, q, out) => taskContainers.writeLogs(taskId, q, out)));
    registerSecretRoutes(router, cluster.secrets);
    this.server = new ApiServer({ router, log: this.log });
    await this.server.listen(cfg.hosts);
    // After the API is up: rejoining the swarm can take a while (etcd start, peers).
    void cluster.restore().catch((e) => this.log('error', `rejoining the swarm: ${(e as Error).message}`));
    this.log('info', `berthd listening on ${cfg.hosts.join(', ')} (data root ${cfg.dataRoot}, exec root ${cfg.execRoot})`);
  }

  /** Stops serving; containers keep running (live restore). */
  async stop(): Promise<void> {
    await this.cluster?.shutdown().catch((e) => this.log('warn', `leaving swarm duties: ${(e as Error).message}`));
    this.containers?.shutdown();
    this.network?.shutdown();
    await this.sshSessions?.closeAll();
    this.exits?.stop();
    await this.server?.close();
    await fs.promises.rm(this.cfg.pidfile, { force: true });
  }

  private async writePidfile(): Promise<void> {
    const file = this.cfg.pidfile;
    try {
      const old = Number((await fs.promises.readFile(file, 'utf8')).trim());
      if (old && old !== process.pid && fs.existsSync(`/proc/${old}`)) {
        throw new Error(`pid file found, ensure berthd is not running or delete ${file}`);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, String(process.pid));
  }

  private async engineId(root: string): Promise<string> {
    const file = path.join(root, 'engine-id');
    try {
      return (await fs.promises.readFile(file, 'utf8')).trim();
    } catch {
      const id = randomUUID();
      await fs.promises.writeFile(file, id);
      return id;
    }
  }
}
