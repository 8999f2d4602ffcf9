// docker's client config file ($DOCKER_CONFIG/config.json or ~/.docker/config.json):
// the `auths` map (or the credential helper it names) that login writes and pull/push/run read for X-Registry-Auth.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configKeyFor, encodeAuthHeader, type AuthConfig } from '../common/registry-auth.js';
import { parseNormalized } from '../common/reference.js';
import { helperFor, helperGet } from './credhelpers.js';

export function configDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
}

export function configFile(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), 'config.json');
}

export function readConfig(env: NodeJS.ProcessEnv): Record<string, any> {
  try {
    const v = JSON.parse(readFileSync(configFile(env), 'utf8'));
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

/** Keeps every other key of the file; written atomically with docker's tab indent and 0600 mode. */
export function writeConfig(env: NodeJS.ProcessEnv, cfg: Record<string, any>): void {
  const file = configFile(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(cfg, null, '\t'), { mode: 0o600 });
  renameSync(tmp, file);
}

/** The stored credentials for a registry host, also under the `http(s)://host` keys older clients wrote. */
export function credentialsFor(env: NodeJS.ProcessEnv, host: string): AuthConfig | undefined {
  const cfg = readConfig(env);
  const key = configKeyFor(host);
  const helper = helperFor(cfg, key);
  if (helper) return helperGet(helper, key, env);
  const auths: Record<string, any> = cfg.auths ?? {};
  const entry = auths[key] ?? auths[`https://${key}`] ?? auths[`http://${key}`];
  if (!entry) return undefined;
  const out: AuthConfig = { serveraddress: key };
  if (entry.auth) {
    const s = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = s.indexOf(':');
    if (i > 0) {
      out.username = s.slice(0, i);
      out.password = s.slice(i + 1);
    }
  }
  if (entry.identitytoken) out.identitytoken = entry.identitytoken;
  return out;
}

/** X-Registry-Auth for pulling or pushing `image`; docker sends an empty AuthConfig when it has none. */
export function registryAuthHeader(env: NodeJS.ProcessEnv, image: string): string {
  let host = 'docker.io';
  try {
    host = parseNormalized(image).domain;
  } catch {
    /* the daemon reports the bad reference */
  }
  return encodeAuthHeader(credentialsFor(env, host) ?? {});
}
