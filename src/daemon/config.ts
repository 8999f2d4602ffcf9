import path from 'node:path';

/**
 * Every path and name a second berthd on the same machine would clash on
 * lives here and nowhere else; the rest of the daemon derives from it.
 */
export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  cgroupParent: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  defaultRuntime: string;
  /** name → executable path (runc-compatible command line). */
  runtimes: Record<string, { path: string; runtimeArgs?: string[] }>;
  liveRestore: boolean;
  conmonPath: string;
  /** Host path of the init bound into containers for --init (tini, as docker-init). */
  initPath: string;
  /** Default logging driver and options for new containers (--log-driver, --log-opt). */
  log: { driver: string; opts: Record<string, string> };
  /** Networking (the default bridge network and berthd's iptables chains). */
  network: NetworkConfig;
  /** Registries: insecure ones (--insecure-registry), docker.io mirrors (--registry-mirror), TLS material dirs. */
  registry: { insecure: string[]; mirrors: string[]; certsDirs: string[]; maxConcurrentDownloads: number; maxConcurrentUploads: number; maxDownloadAttempts: number };
  /**
   * Swarm mode: the etcd a manager runs and the ports it takes (--swarm-etcd-client-port,
   * --swarm-etcd-peer-port), or an existing etcd cluster to use instead (--swarm-external-etcd).
   */
  swarm: {
    etcdBinary: string;
    etcdClientPort: number;
    etcdPeerPort: number;
    external?: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string };
  };
}

export interface NetworkConfig {
  /** Linux bridge of the default `bridge` network (--bridge). */
  bridgeName: string;
  /** Gateway address and prefix of the default bridge (--bip). */
  bip: string;
  /** Sub-range containers on the default bridge get addresses from (--fixed-cidr); the whole subnet when empty. */
  fixedCidr: string;
  /** Whether berthd writes iptables rules (NAT, published ports, isolation) (--iptables). */
  iptables: boolean;
  /** Prefix of berthd's own iptables chains (--iptables-chain-prefix). */
  chainPrefix: string;
  /** Directory of the CNI plugin binaries. */
  cniPluginDir: string;
  /** IPv6 on the default bridge (--ipv6), in this subnet (--fixed-cidr-v6). */
  ipv6: boolean;
  fixedCidrV6: string;
  /** Whether berthd writes ip6tables rules for IPv6 networks (--ip6tables; only with --iptables). */
  ip6tables: boolean;
  /** What `--add-host x:host-gateway` resolves to (--host-gateway-ip); empty: the default bridge's gateway. */
  hostGatewayIp: string;
  /** Whether containers on the default bridge may talk to each other (--icc). */
  icc: boolean;
}

export const DEFAULTS = {
  host: 'unix:///run/berth/berth.sock',
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  cgroupParent: 'berth',
  runtime: 'runc',
  bridgeName: 'berth0',
  // docker0 takes 172.17/16 and user networks 172.18+: the default bridge sits near the top of that pool.
  bip: '172.30.0.1/16',
  chainPrefix: 'BERTH',
};

export function defaultConfig(): DaemonConfig {
  return {
    hosts: [DEFAULTS.host],
    dataRoot: DEFAULTS.dataRoot,
    execRoot: DEFAULTS.execRoot,
    pidfile: path.join(DEFAULTS.execRoot, 'berthd.pid'),
    cgroupParent: DEFAULTS.cgroupParent,
    logLevel: 'info',
    defaultRuntime: DEFAULTS.runtime,
    runtimes: { runc: { path: '/usr/sbin/runc' } },
    liveRestore: true,
    conmonPath: '/usr/bin/conmon',
    initPath: '/usr/bin/tini-static',
    log: { driver: 'json-file', opts: {} },
    registry: { insecure: [], mirrors: [], certsDirs: ['/etc/berth/certs.d', '/etc/docker/certs.d'], maxConcurrentDownloads: 3, maxConcurrentUploads: 5, maxDownloadAttempts: 5 },
    swarm: { etcdBinary: '/usr/bin/etcd', etcdClientPort: 2379, etcdPeerPort: 2380 },
    network: { bridgeName: DEFAULTS.bridgeName, bip: DEFAULTS.bip, fixedCidr: '', iptables: true, chainPrefix: DEFAULTS.chainPrefix, cniPluginDir: '/usr/lib/cni', ipv6: false, fixedCidrV6: '', ip6tables: true, hostGatewayIp: '', icc: true },
  };
}

/** Directory layout under the roots. */
export function layout(cfg: DaemonConfig) {
  const d = cfg.dataRoot;
  const e = cfg.execRoot;
  return {
    contentDir: path.join(d, 'content'),
    imagesDir: path.join(d, 'images'),
    snapshotsDir: path.join(d, 'snapshots'),
    containersDir: path.join(d, 'containers'),
    tmpDir: path.join(d, 'tmp'),
    /** The builder's step cache (survives restarts). */
    builderDir: path.join(d, 'builder'),
    /** Volumes as docker lays them out: `<name>/_data` plus berth's `<name>/volume.json`. */
    volumesDir: path.join(d, 'volumes'),
    /** Staging binds of `volume-subpath` mounts, per container; gone after a reboot, as the mounts are. */
    subpathsDir: path.join(e, 'subpaths'),
    /** Which repositories hold which blobs, for cross-repository mounts on push. */
    blobSourcesFile: path.join(d, 'registry', 'blob-sources.json'),
    /** Runtime state of runc (its --root). Lives in the exec root: gone after reboot, as it must be. */
    runcRoot: path.join(e, 'runc'),
    /** conmon writes `<exitDir>/<id>` with the exit code when a container ends. */
    exitDir: path.join(e, 'exits'),
    /** conmon's attach sockets; short path because sun_path is 108 bytes. */
    socketDir: path.join(e, 's'),
    bundlesDir: path.join(e, 'bundles'),
    /** Exec sessions: their conmon bundle dirs and exit files. */
    execDir: path.join(e, 'exec'),
    execExitDir: path.join(e, 'exec-exits'),
    /** User-defined networks: one JSON record each. */
    networksDir: path.join(d, 'networks'),
    /** Network namespaces of containers, bind-mounted files. */
    netnsDir: path.join(e, 'netns'),
    /** host-local IPAM leases and berthd's endpoint records: gone after a reboot, with the namespaces. */
    ipamDir: path.join(e, 'cni', 'ipam'),
    endpointsDir: path.join(e, 'cni', 'endpoints'),
    /** Swarm runtime files: etcd's copy of the node's TLS key, never in the data root (autolock seals that one). */
    swarmRunDir: path.join(e, 'swarm'),
  };
}
export type Layout = ReturnType<typeof layout>;
