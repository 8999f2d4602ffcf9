import { badRequest } from '../errors.js';

/**
 * Type checks for request bodies, as Go's JSON decoding in dockerd does them:
 * unknown fields are ignored, a known field of the wrong type is a 400 with
 * Go's message, e.g. `json: cannot unmarshal string into Go struct field
 * HostConfig.HostConfig.Memory of type int64`.
 */
type T = 'string' | 'bool' | 'int64' | 'int' | 'uint16' | '[]string' | 'strslice' | 'map' | 'object' | 'array' | 'float64';

const CONFIG: Record<string, T> = {
  Hostname: 'string', Domainname: 'string', User: 'string', AttachStdin: 'bool', AttachStdout: 'bool', AttachStderr: 'bool',
  ExposedPorts: 'map', Tty: 'bool', OpenStdin: 'bool', StdinOnce: 'bool', Env: '[]string', Cmd: 'strslice', Healthcheck: 'object',
  ArgsEscaped: 'bool', Image: 'string', Volumes: 'map', WorkingDir: 'string', Entrypoint: 'strslice', NetworkDisabled: 'bool',
  MacAddress: 'string', OnBuild: '[]string', Labels: 'map', StopSignal: 'string', StopTimeout: 'int', Shell: 'strslice',
};

const HOST_CONFIG: Record<string, T> = {
  Binds: '[]string', ContainerIDFile: 'string', LogConfig: 'object', NetworkMode: 'string', PortBindings: 'map', RestartPolicy: 'object',
  AutoRemove: 'bool', VolumeDriver: 'string', VolumesFrom: '[]string', CapAdd: 'strslice', CapDrop: 'strslice', CgroupnsMode: 'string',
  Dns: '[]string', DnsOptions: '[]string', DnsSearch: '[]string', ExtraHosts: '[]string', GroupAdd: '[]string', IpcMode: 'string',
  Cgroup: 'string', Links: '[]string', OomScoreAdj: 'int', PidMode: 'string', Privileged: 'bool', PublishAllPorts: 'bool',
  ReadonlyRootfs: 'bool', SecurityOpt: '[]string', StorageOpt: 'map', Tmpfs: 'map', UTSMode: 'string', UsernsMode: 'string',
  ShmSize: 'int64', Sysctls: 'map', Runtime: 'string', Isolation: 'string', CpuShares: 'int64', Memory: 'int64', NanoCpus: 'int64',
  CgroupParent: 'string', BlkioWeight: 'uint16', CpuPeriod: 'int64', CpuQuota: 'int64', CpuRealtimePeriod: 'int64',
  CpuRealtimeRuntime: 'int64', CpusetCpus: 'string', CpusetMems: 'string', Devices: 'array', DeviceCgroupRules: '[]string',
  KernelMemory: 'int64', KernelMemoryTCP: 'int64', MemoryReservation: 'int64', MemorySwap: 'int64', MemorySwappiness: 'int64',
  OomKillDisable: 'bool', PidsLimit: 'int64', Ulimits: 'array', Init: 'bool', MaskedPaths: '[]string', ReadonlyPaths: '[]string',
  Mounts: 'array', ConsoleSize: 'array', Annotations: 'map',
};

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  return typeof v;
}

function ok(t: T, v: unknown): boolean {
  if (v === null) return true;
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'int64':
    case 'int':
    case 'uint16':
      return typeof v === 'number' && Number.isInteger(v) && (t !== 'uint16' || (v >= 0 && v <= 65535));
    case 'float64':
      return typeof v === 'number';
    case '[]string':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'strslice':
      return typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
    case 'map':
    case 'object':
      return typeof v === 'object' && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
  }
}

const GO_TYPE: Record<T, string> = {
  string: 'string', bool: 'bool', int64: 'int64', int: 'int', uint16: 'uint16', float64: 'float64', '[]string': '[]string',
  strslice: 'strslice.StrSlice', map: 'map[string]string', object: 'struct', array: 'slice',
};

function check(obj: Record<string, unknown>, table: Record<string, T>, prefix: string): void {
  for (const [k, t] of Object.entries(table)) {
    if (!(k in obj)) continue;
    const v = obj[k];
    if (!ok(t, v)) {
      const kind = jsonKind(v);
      const what = kind === 'number' ? `number ${String(v)}` : kind;
      throw badRequest(`json: cannot unmarshal ${what} into Go struct field ${prefix}.${k} of type ${GO_TYPE[t]}`);
    }
  }
}

/** Validates a `POST /containers/create` body. */
export function validateCreateBody(body: unknown): void {
  if (body === undefined || body === null) return;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`json: cannot unmarshal ${jsonKind(body)} into Go value of type container.CreateRequest`);
  }
  const b = body as Record<string, unknown>;
  check(b, CONFIG, 'CreateRequest.Config');
  const hc = b.HostConfig;
  if (hc !== undefined && hc !== null) {
    if (typeof hc !== 'object' || Array.isArray(hc)) throw badRequest(`json: cannot unmarshal ${jsonKind(hc)} into Go struct field CreateRequest.HostConfig of type container.HostConfig`);
    check(hc as Record<string, unknown>, HOST_CONFIG, 'HostConfig.HostConfig');
  }
}
