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
}

export const DEFAULTS = {
  host: 'unix:///run/berth/berth.sock',
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  cgroupParent: 'berth',
  runtime: 'runc',
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
  };
}
export type Layout = ReturnType<typeof layout>;
