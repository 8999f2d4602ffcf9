import { spawn } from 'node:child_process';

export class HostCommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(stderr.trim() || `${command} exited with code ${code}`);
  }
}

/**
 * Runs a host helper by absolute path (never through PATH, never a shell) and
 * rejects with its stderr, which is what users need to see when it fails.
 */
export function runHost(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new HostCommandError(cmd, code, err))));
  });
}
