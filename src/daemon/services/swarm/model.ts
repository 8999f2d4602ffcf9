// Swarm objects as the Engine API shows them (swagger: Node, Service, Task,
// Swarm), identifiers and join tokens in swarmkit's formats, and the error
// texts dockerd answers with.
import { createHash, randomBytes } from 'node:crypto';
import { ApiError } from '../../errors.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Obj = Record<string, any>;

export interface NodeRecord {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Spec: { Labels: Record<string, string>; Role: 'manager' | 'worker'; Availability: 'active' | 'pause' | 'drain'; Name?: string };
  Description: Obj;
  Status: { State: string; Addr: string; Message?: string };
  ManagerStatus?: { Leader?: boolean; Reachability: string; Addr: string };
  /** berth's own: where the node's cluster endpoint listens, its etcd member. Not shown in the API. */
  Berth: { addr: string; port: number; etcdPeerPort?: number; etcdClientPort?: number; left?: boolean };
}

export interface ServiceRecord {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Spec: Obj;
  PreviousSpec?: Obj;
  Endpoint: Obj;
  /** swagger's UpdateStatus: State updating|paused|completed|rollback_started|rollback_paused|rollback_completed. */
  UpdateStatus?: { State: string; StartedAt: string; CompletedAt?: string; Message: string };
  /** berth's own, never shown: the X-Registry-Auth sent with --with-registry-auth (swarmkit's ContainerSpec.PullOptions). */
  RegistryAuth?: string;
  /** Job services only: which run of the job is current (each update starts a new one). */
  JobStatus?: { JobIteration: { Index: number }; LastExecution: string };
}

export type TaskState = 'new' | 'pending' | 'assigned' | 'accepted' | 'preparing' | 'ready' | 'starting' | 'running' | 'complete' | 'shutdown' | 'failed' | 'rejected' | 'remove' | 'orphaned';
const ORDER: TaskState[] = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'];
export const stateRank = (s: string): number => ORDER.indexOf(s as TaskState);
export const isTerminal = (s: string): boolean => stateRank(s) >= stateRank('complete');
/** Whether the task's container should run: desired `running`, or `complete` (a job's task runs to completion). */
export const wantsRun = (t: { DesiredState: string }): boolean => t.DesiredState === 'running' || t.DesiredState === 'complete';
export const isJob = (spec: Obj | undefined): boolean => !!(spec?.Mode?.ReplicatedJob || spec?.Mode?.GlobalJob);

/** `<service>.<slot>`, or `<service>.<node id>` for a task without a slot (global, and a job's slot 0), as moby's naming.Task. */
export function taskSlotName(t: { ServiceName: string; Slot?: number; NodeID: string }): string {
  return `${t.ServiceName}.${t.Slot || t.NodeID}`;
}

export interface TaskStatus {
  Timestamp: string;
  State: TaskState;
  Message: string;
  Err?: string;
  ContainerStatus?: { ContainerID: string; PID: number; ExitCode: number };
  PortStatus?: Obj;
  /**
   * berth's own, never shown: the agent found the task's container unhealthy and is stopping it. Still
   * `running` until it exited (as swarmkit), but no longer a VIP/DNS backend (moby deactivates its service binding).
   */
  Unhealthy?: boolean;
}

export interface TaskRecord {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Labels: Record<string, string>;
  Spec: Obj;
  ServiceID: string;
  Slot?: number;
  NodeID: string;
  Status: TaskStatus;
  DesiredState: TaskState;
  /** berth's own: the service name when the task was made (containers are named after it). */
  ServiceName: string;
  /** berth's own: the service's endpoint spec (published ports) when the task was made. */
  Endpoint?: Obj;
  /** berth's own, never shown: the service's registry credentials, for the node that pulls the image. */
  RegistryAuth?: string;
  /** For a job's task: the job iteration it belongs to (swagger's Task.JobIteration). */
  JobIteration?: { Index: number };
  /** The task's address on each overlay network of its service (swagger's Task.NetworksAttachments). */
  NetworksAttachments?: Obj[];
}

export interface ClusterRecord {
  ID: string;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: Obj;
  TLSInfo: Obj;
  RootRotationInProgress: boolean;
  DefaultAddrPool: string[];
  SubnetSize: number;
  DataPathPort: number;
  JoinTokens: { Worker: string; Manager: string };
}

/** swarmkit's identity.NewID: 128 random bits in base 36, 25 characters. */
export function newId(): string {
  return BigInt('0x' + randomBytes(16).toString('hex')).toString(36).padStart(25, '0');
}

/** `SWMTKN-1-<sha256 of the CA PEM, base 36, 50 chars>-<128-bit secret, base 36, 25 chars>` */
export function makeJoinToken(caPem: string): string {
  return `SWMTKN-1-${caDigest36(caPem)}-${newId()}`;
}

export function caDigest36(caPem: string): string {
  return BigInt('0x' + createHash('sha256').update(caPem).digest('hex')).toString(36).padStart(50, '0');
}

export function parseJoinToken(token: string): { digestHex: string; secret: string } {
  const m = /^SWMTKN-1-([0-9a-z]{50})-([0-9a-z]{25})$/.exec(token);
  if (!m) throw new ApiError(400, 'invalid join token');
  let n = 0n;
  for (const ch of m[1]!) n = n * 36n + BigInt(parseInt(ch, 36));
  return { digestHex: n.toString(16).padStart(64, '0'), secret: m[2]! };
}

export const now = (): string => new Date().toISOString();

/**
 * JSON text with object keys sorted, so specs that differ only in key order (one client's vs another's) compare equal.
 * Empty lists and nulls count as absent, as in swarmkit's protobuf specs (`Secrets: []` from `service update` is no change).
 */
function canonicalJson(v: unknown): string {
  const absent = (x: unknown) => x === null || (Array.isArray(x) && x.length === 0);
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.keys(x).sort().filter((k) => !absent((x as Record<string, unknown>)[k])).map((k) => [k, (x as Record<string, unknown>)[k]]))
      : x,
  );
}

/** Whether two specs say the same thing; absent and empty ({}) are the same, as swarmkit treats unset sections. */
export const sameSpec = (a: unknown, b: unknown): boolean => canonicalJson(a ?? {}) === canonicalJson(b ?? {});

// dockerd's texts (daemon/cluster/errors.go), all 503 but the ones noted.
export const errNoSwarm = () => new ApiError(503, 'This node is not part of a swarm');
export const errSwarmExists = () => new ApiError(503, 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.');
export const errNotManagerNoSwarm = () =>
  new ApiError(503, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
export const errNotManagerWorker = () =>
  new ApiError(503, "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.");
export const errNoSuchNode = (ref: string) => new ApiError(404, `node ${ref} not found`);
export const errNoSuchService = (ref: string) => new ApiError(404, `service ${ref} not found`);
export const errNoSuchTask = (ref: string) => new ApiError(404, `task ${ref} not found`);
export const errOutOfSequence = () => new ApiError(500, 'rpc error: code = Unknown desc = update out of sequence');

/** Finds one object by full ID, name (when given) or unique ID prefix, as dockerd's cluster lookups do. */
export function lookup<T extends { ID: string }>(all: T[], ref: string, name: (x: T) => string | undefined, notFound: (ref: string) => ApiError, kind: string): T {
  const byId = all.find((x) => x.ID === ref);
  if (byId) return byId;
  const byName = all.filter((x) => name(x) === ref);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new ApiError(400, `${kind} ${ref} is ambiguous (${byName.length} matches found)`);
  const byPrefix = all.filter((x) => x.ID.startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) throw new ApiError(400, `${kind} ${ref} is ambiguous (${byPrefix.length} matches found)`);
  throw notFound(ref);
}
