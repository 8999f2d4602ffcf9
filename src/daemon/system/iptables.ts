/**
 * The few iptables operations berthd needs, on chains it owns (their names
 * start with the daemon's chain prefix, so two berthd never touch each
 * other's rules).
 */
import { spawn } from 'node:child_process';
import { runHost, HostCommandError } from './host-command.js';

const IPTABLES = '/usr/sbin/iptables';
const IPTABLES_RESTORE = '/usr/sbin/iptables-restore';

function ipt(args: string[]): Promise<string> {
  return runHost(IPTABLES, ['-w', '5', ...args]);
}

async function chainExists(table: string, chain: string): Promise<boolean> {
  return ipt(['-t', table, '-n', '-L', chain]).then(
    () => true,
    () => false,
  );
}

/** Creates `chain` (empty) if missing and makes `from` jump to it first. */
export async function ensureChain(table: string, chain: string, from?: string): Promise<void> {
  if (!(await chainExists(table, chain))) await ipt(['-t', table, '-N', chain]);
  if (from) {
    const jump = ['-t', table, '-C', from, '-j', chain];
    const present = await ipt(jump).then(
      () => true,
      () => false,
    );
    if (!present) await ipt(['-t', table, '-I', from, '1', '-j', chain]);
  }
}

/**
 * Replaces the rules of `chain` with `rules` (each an argument list after
 * `-A chain`) in one iptables-restore transaction: no window without rules,
 * and one process however many rules.
 */
export function setRules(table: string, chain: string, rules: string[][]): Promise<void> {
  const quote = (a: string) => (/^[A-Za-z0-9_.:\/!,+-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`);
  const text = [`*${table}`, `-F ${chain}`, ...rules.map((r) => `-A ${chain} ${r.map(quote).join(' ')}`), 'COMMIT', ''].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(IPTABLES_RESTORE, ['-w', '5', '--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore (${table} ${chain}): ${err.trim() || `exit ${code}`}`))));
    child.stdin.end(text);
  });
}

/** Removes `chain` and the jump to it; missing ones are fine. */
export async function removeChain(table: string, chain: string, from?: string): Promise<void> {
  if (from) {
    while (await ipt(['-t', table, '-D', from, '-j', chain]).then(() => true, () => false));
  }
  if (!(await chainExists(table, chain))) return;
  await ipt(['-t', table, '-F', chain]);
  await ipt(['-t', table, '-X', chain]).catch((e: HostCommandError) => {
    throw new Error(`removing iptables chain ${chain}: ${e.message}`);
  });
}
