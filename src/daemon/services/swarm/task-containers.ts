// Tasks as ordinary containers of the local container service, named and
// labelled as dockerd's executor does (`<service>.<slot>.<task id>`,
// com.docker.swarm.* labels), so `ps`, `logs`, `inspect` work on them too.
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { ApiError } from '../../errors.js';
import type { ContainerService } from '../container-service.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Payloads, TaskContainer, TaskRuntime } from './agent.js';
import { taskSlotName, type Obj, type TaskRecord } from './model.js';

const TASK_LABEL = 'com.docker.swarm.task.id';

export function taskContainerName(t: TaskRecord): string {
  return `${taskSlotName(t)}.${t.ID}`;
}

/** The container create body for a task (ContainerSpec, resources, host-mode ports). */
export function containerBody(t: TaskRecord, nodeId: string): Obj {
  const cs: Obj = t.Spec.ContainerSpec ?? {};
  const res: Obj = t.Spec.Resources ?? {};
  const labels: Record<string, string> = {
    ...(cs.Labels ?? {}),
    'com.docker.swarm.node.id': nodeId,
    'com.docker.swarm.service.id': t.ServiceID,
    'com.docker.swarm.service.name': t.ServiceName,
    'com.docker.swarm.task': '',
    [TASK_LABEL]: t.ID,
    'com.docker.swarm.task.name': taskSlotName(t),
  };
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  // With an address on the ingress network the routing mesh publishes ingress-mode ports on every node.
  const meshed = ((t.NetworksAttachments ?? []) as Obj[]).some((a) => a.Network?.Spec?.Ingress);
  for (const p of (t.Endpoint?.Ports ?? []) as Obj[]) {
    const key = `${p.TargetPort}/${p.Protocol ?? 'tcp'}`;
    exposed[key] = {};
    if (meshed && (p.PublishMode ?? 'ingress') === 'ingress') continue;
    if (p.PublishedPort) (bindings[key] ??= []).push({ HostIp: '', HostPort: String(p.PublishedPort) });
  }
  const restartless = { Name: 'no', MaximumRetryCount: 0 };
  return {
    Image: cs.Image,
    ...(cs.Command?.length ? { Entrypoint: cs.Command } : {}),
    ...(cs.Args?.length ? { Cmd: cs.Args } : {}),
    Env: cs.Env ?? [],
    Labels: labels,
    Hostname: cs.Hostname ?? '',
    WorkingDir: cs.Dir ?? '',
    User: cs.User ?? '',
    // The service's health check replaces the image's; the agent holds the task in `starting` until it passes.
    ...(cs.Healthcheck ? { Healthcheck: cs.Healthcheck } : {}),
    Tty: !!cs.TTY,
    OpenStdin: !!cs.OpenStdin,
    StopSignal: cs.StopSignal,
    StopTimeout: cs.StopGracePeriod !== undefined ? Math.round(Number(cs.StopGracePeriod) / 1e9) : undefined,
    ExposedPorts: exposed,
    HostConfig: {
      Mounts: cs.Mounts ?? [],
      PortBindings: bindings,
      RestartPolicy: restartless,
      Init: cs.Init ?? undefined,
      ReadonlyRootfs: !!cs.ReadOnly,
      NanoCpus: res.Limits?.NanoCPUs ?? 0,
      Memory: res.Limits?.MemoryBytes ?? 0,
      PidsLimit: res.Limits?.Pids || undefined,
      MemoryReservation: res.Reservations?.MemoryBytes ?? 0,
      CapAdd: cs.CapabilityAdd ?? undefined,
      CapDrop: cs.CapabilityDrop ?? undefined,
    },
  };
}

function boolQuery(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  return v === null ? dflt : !['', '0', 'false', 'no'].includes(v.toLowerCase());
}

export class TaskContainers implements TaskRuntime {
  constructor(
    private containers: ContainerService,
    /** Where a task's secrets and configs are written (in the exec root: gone after a reboot). */
    private filesDir: string,
    /** Pulls an image this node lacks, as dockerd's executor does before creating a task's container. */
    private pullImage: (ref: string, registryAuth?: string) => Promise<void>,
  ) {}

  /**
   * Writes the task's secrets and configs as files (mode, owner from the
   * reference) and returns the read-only binds that put them at
   * /run/secrets/<name> and at the config's target.
   */
  private async files(t: TaskRecord, p: Payloads): Promise<Obj[]> {
    const cs: Obj = t.Spec.ContainerSpec ?? {};
    const binds: Obj[] = [];
    const dir = path.join(this.filesDir, t.ID);
    const write = async (sub: string, id: string, data: string | undefined, file: Obj, target: string, what: string) => {
      if (data === undefined) throw new Error(`${what} ${id} was not delivered to this node`);
      const f = path.join(dir, sub, id);
      await fs.promises.mkdir(path.dirname(f), { recursive: true, mode: 0o700 });
      await fs.promises.writeFile(f, Buffer.from(data, 'base64'), { mode: 0o600 });
      await fs.promises.chown(f, Number(file.UID ?? 0), Number(file.GID ?? 0));
      await fs.promises.chmod(f, Number(file.Mode ?? 0o444));
      binds.push({ Type: 'bind', Source: f, Target: target, ReadOnly: true });
    };
    for (const r of (cs.Secrets ?? []) as Obj[]) {
      const name = String(r.File?.Name ?? r.SecretName);
      await write('secrets', r.SecretID, p.secrets[r.SecretID], r.File ?? {}, name.startsWith('/') ? name : `/run/secrets/${name}`, 'secret');
    }
    for (const r of (cs.Configs ?? []) as Obj[]) {
      const name = String(r.File?.Name ?? `/${r.ConfigName}`);
      await write('configs', r.ConfigID, p.configs[r.ConfigID], r.File ?? {}, name.startsWith('/') ? name : `/${name}`, 'config');
    }
    return binds;
  }

  list(): TaskContainer[] {
    return this.containers
      .all()
      .filter((r) => r.config.Labels?.[TASK_LABEL])
      .map((r) => ({
        taskId: r.config.Labels![TASK_LABEL]!,
        id: r.id,
        running: r.state.Status === 'running' || r.state.Status === 'paused' || r.state.Status === 'restarting',
        startedBefore: r.hasBeenStartedBefore,
        exitCode: r.state.ExitCode,
        pid: r.state.Pid,
        error: r.state.Error,
        health: r.state.Health?.Status,
      }));
  }

  private find(taskId: string): TaskContainer | undefined {
    return this.list().find((c) => c.taskId === taskId);
  }

  async run(t: TaskRecord, nodeId: string, payloads: Payloads): Promise<TaskContainer> {
    const name = taskContainerName(t);
    let id = this.find(t.ID)?.id;
    if (!id) {
      const body = containerBody(t, nodeId);
      body.HostConfig.Mounts = [...body.HostConfig.Mounts, ...(await this.files(t, payloads))];
      try {
        id = (await this.containers.create(body, name)).Id;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404 && /^No such image/.test(e.message))) throw e;
        await this.pullImage(String(body.Image), t.RegistryAuth);
        id = (await this.containers.create(body, name)).Id;
      }
    }
    try {
      await this.containers.start(id);
    } catch (e) {
      // A task that cannot start leaves no container behind; the next task gets a fresh one.
      await this.containers.remove(id, { force: true, volumes: false }).catch(() => undefined);
      await fs.promises.rm(path.join(this.filesDir, t.ID), { recursive: true, force: true });
      throw e;
    }
    return this.find(t.ID)!;
  }

  async stop(taskId: string, graceSeconds: number): Promise<void> {
    const c = this.find(taskId);
    if (c?.running) await this.containers.stop(c.id, { timeout: graceSeconds });
  }

  async remove(taskId: string): Promise<void> {
    const c = this.find(taskId);
    if (c) await this.containers.remove(c.id, { force: true, volumes: false });
    await fs.promises.rm(path.join(this.filesDir, taskId), { recursive: true, force: true });
  }

  async streamLogs(taskId: string, q: URLSearchParams, res: ServerResponse): Promise<void> {
    if (!this.find(taskId)) throw new ApiError(404, `task ${taskId} has no container on this node`);
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
    await this.writeLogs(taskId, q, res);
    res.end();
  }

  /** The task container's log as stdcopy frames. */
  async writeLogs(taskId: string, q: URLSearchParams, out: Writable): Promise<void> {
    const c = this.find(taskId);
    if (!c) throw new ApiError(404, `task ${taskId} has no container on this node`);
    const tail = q.get('tail');
    await this.containers.logs(c.id, out, {
      stdout: boolQuery(q, 'stdout', true),
      stderr: boolQuery(q, 'stderr', true),
      follow: boolQuery(q, 'follow'),
      timestamps: boolQuery(q, 'timestamps'),
      since: q.get('since') ? Number(q.get('since')) : undefined,
      tail: tail && tail !== 'all' ? Number(tail) : undefined,
    });
  }
}
