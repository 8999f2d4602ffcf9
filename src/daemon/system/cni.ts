/**
 * A CNI runtime, just enough of one: runs a plugin chain (a conflist) for
 * ADD and DEL as the CNI spec describes, feeding each plugin the previous
 * plugin's result and the runtime config its capabilities ask for.
 */
import { spawn } from 'node:child_process';

export const CNI_VERSION = '1.0.0';

export interface CniPlugin {
  type: string;
  capabilities?: Record<string, boolean>;
  [k: string]: unknown;
}

export interface CniNetwork {
  name: string;
  plugins: CniPlugin[];
}

export interface CniRuntime {
  containerId: string;
  netns: string;
  ifname: string;
  /** Runtime config offered to plugins that declare the capability (portMappings, …). */
  capabilityArgs?: Record<string, unknown>;
}

export interface CniResult {
  cniVersion?: string;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ interface?: number; address: string; gateway?: string }>;
  routes?: unknown[];
  dns?: unknown;
}

export class CniError extends Error {
  constructor(
    readonly plugin: string,
    message: string,
  ) {
    super(message);
    this.name = 'CniError';
  }
}

export interface CniOptions {
  pluginDir: string;
}

function pluginConf(net: CniNetwork, p: CniPlugin, rt: CniRuntime, prevResult?: CniResult): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...p, cniVersion: CNI_VERSION, name: net.name };
  if (p.capabilities && rt.capabilityArgs) {
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(p.capabilities)) if (on && cap in rt.capabilityArgs) runtimeConfig[cap] = rt.capabilityArgs[cap];
    if (Object.keys(runtimeConfig).length) conf.runtimeConfig = runtimeConfig;
  }
  if (prevResult) conf.prevResult = prevResult;
  return conf;
}

function exec(o: CniOptions, command: 'ADD' | 'DEL', conf: Record<string, unknown>, rt: CniRuntime): Promise<string> {
  const type = String(conf.type);
  return new Promise((resolve, reject) => {
    const child = spawn(`${o.pluginDir}/${type}`, [], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        CNI_COMMAND: command,
        CNI_CONTAINERID: rt.containerId,
        CNI_NETNS: rt.netns,
        CNI_IFNAME: rt.ifname,
        CNI_PATH: o.pluginDir,
        // The plugins find iptables and friends through PATH.
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => reject(new CniError(type, `plugin type="${type}" failed: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve(out);
      let msg = err.trim() || `exit code ${code}`;
      try {
        const j = JSON.parse(out) as { msg?: string; details?: string };
        if (j.msg) msg = j.details ? `${j.msg}: ${j.details}` : j.msg;
      } catch {
        /* not a CNI error object: stderr says it */
      }
      reject(new CniError(type, `plugin type="${type}" failed (${command.toLowerCase()}): ${msg}`));
    });
    child.stdin.end(JSON.stringify(conf));
  });
}

/** ADD through the whole chain; on a failure the plugins already run are deleted again. */
export async function cniAdd(o: CniOptions, net: CniNetwork, rt: CniRuntime): Promise<CniResult> {
  let result: CniResult | undefined;
  let done = 0;
  try {
    for (const p of net.plugins) {
      const out = await exec(o, 'ADD', pluginConf(net, p, rt, result), rt);
      if (out.trim()) result = JSON.parse(out) as CniResult;
      done++;
    }
  } catch (e) {
    await cniDel(o, { ...net, plugins: net.plugins.slice(0, done + 1) }, rt, result).catch(() => undefined);
    throw e;
  }
  return result ?? {};
}

/** DEL in reverse order; every plugin runs even when one fails, the first error is thrown. */
export async function cniDel(o: CniOptions, net: CniNetwork, rt: CniRuntime, prevResult?: CniResult): Promise<void> {
  let first: unknown;
  for (const p of [...net.plugins].reverse()) {
    await exec(o, 'DEL', pluginConf(net, p, rt, prevResult), rt).catch((e) => (first ??= e));
  }
  if (first) throw first;
}
