// docker's credential helper protocol: `docker-credential-<name> get|store|erase`,
// talking JSON on stdin/stdout, chosen per registry by `credHelpers` or for all by `credsStore`.
import { execFileSync } from 'node:child_process';
import type { AuthConfig } from '../common/registry-auth.js';

/** The helper the config names for a registry key, if any. */
export function helperFor(cfg: Record<string, any>, key: string): string | undefined {
  const per = cfg.credHelpers?.[key] ?? cfg.credHelpers?.[key.replace(/^https?:\/\//, '')];
  const name = typeof per === 'string' && per ? per : typeof cfg.credsStore === 'string' && cfg.credsStore ? cfg.credsStore : undefined;
  return name;
}

class HelperError extends Error {}

function call(name: string, verb: 'get' | 'store' | 'erase', input: string, env: NodeJS.ProcessEnv): string {
  const bin = `docker-credential-${name}`;
  try {
    return execFileSync(bin, [verb], { input, env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (err.code === 'ENOENT') throw new HelperError(`exec: "${bin}": executable file not found in $PATH, out: \`\``);
    throw new HelperError(`${(err.stdout || err.stderr || err.message).trim()}`);
  }
}

/** Credentials from the helper; undefined when it has none for the server (docker's "not found" answer). */
export function helperGet(name: string, server: string, env: NodeJS.ProcessEnv): AuthConfig | undefined {
  let out: string;
  try {
    out = call(name, 'get', server, env);
  } catch (e) {
    if (e instanceof HelperError && /credentials not found/i.test(e.message)) return undefined;
    throw new Error(`error getting credentials - err: ${(e as Error).message}`);
  }
  let j: { Username?: string; Secret?: string };
  try {
    j = JSON.parse(out);
  } catch {
    throw new Error(`error getting credentials - err: invalid answer from docker-credential-${name}: ${out.trim().slice(0, 200)}`);
  }
  if (!j.Secret) return undefined;
  // Identity tokens travel with the username "<token>", as in docker's credential store.
  if (j.Username === '<token>') return { serveraddress: server, identitytoken: j.Secret };
  return { serveraddress: server, username: j.Username ?? '', password: j.Secret };
}

export function helperStore(name: string, server: string, username: string, secret: string, env: NodeJS.ProcessEnv): void {
  try {
    call(name, 'store', JSON.stringify({ ServerURL: server, Username: username, Secret: secret }), env);
  } catch (e) {
    throw new Error(`Error saving credentials: error storing credentials - err: ${(e as Error).message}`);
  }
}

export function helperErase(name: string, server: string, env: NodeJS.ProcessEnv): void {
  try {
    call(name, 'erase', server, env);
  } catch (e) {
    if (e instanceof HelperError && /credentials not found/i.test(e.message)) return;
    throw new Error(`error erasing credentials - err: ${(e as Error).message}`);
  }
}
