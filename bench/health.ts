/**
 * Health check cost, side by side in one run: 10 containers with a
 * `--health-cmd true --health-interval 1s` check, over a window of W seconds.
 * Reports the daemon's CPU time per check (berthd; dockerd + containerd +
 * shims) and the probe latency as the daemon records it (Log End - Start),
 * for berthd and for dockerd when one answers at /var/run/docker.sock with a
 * busybox image. Both go through the docker CLI.
 *
 * Not counted: the short-lived processes each probe starts outside the daemon
 * (berth: conmon + runc exec; dockerd: runc exec under the shim).
 *
 * Usage (root): node dist/bench/health.js [window-seconds=20]
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { median } from './measure.js';
import { TestDaemon, DOCKER, run } from '../test/helpers/daemon.js';

const WINDOW_S = Number(process.argv[2] ?? 20);
const CONTAINERS = 10;
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

type Cli = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** utime + stime of the processes, in ms. */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks * TICK_MS;
}

function pidsOf(...args: string[]): number[] {
  try {
    return execFileSync('pgrep', args).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function measure(name: string, cli: Cli, daemonPids: () => number[]): Promise<void> {
  const label = `bench-health=${process.pid}`;
  const names: string[] = [];
  for (let i = 0; i < CONTAINERS; i++) {
    const n = `bench-health-${process.pid}-${i}`;
    const r = await cli(['run', '-d', '--name', n, '--label', label, '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '600']);
    if (r.code !== 0) throw new Error(`${name}: ${r.stderr}`);
    names.push(n);
  }
  try {
    await new Promise((r) => setTimeout(r, 3000)); // past the first probes
    const pids = daemonPids();
    const t0 = Date.now() / 1000;
    const cpu0 = cpuMs(pids);
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const cpu1 = cpuMs(pids);
    const t1 = Date.now() / 1000;
    const ev = await cli(['events', '--since', t0.toFixed(3), '--until', t1.toFixed(3), '--filter', `label=${label}`, '--filter', 'event=exec_die', '--format', '{{.ID}}']);
    const checks = ev.stdout.split('\n').filter(Boolean).length;
    const insp = await cli(['inspect', '--format', '{{json .State.Health.Log}}', ...names]);
    const lat: number[] = [];
    for (const line of insp.stdout.split('\n').filter(Boolean)) {
      for (const e of JSON.parse(line) as Array<{ Start: string; End: string }>) lat.push(Date.parse(e.End) - Date.parse(e.Start));
    }
    const per = checks ? (cpu1 - cpu0) / checks : NaN;
    console.log(
      `  ${name.padEnd(8)} ${String(checks).padStart(4)} checks in ${WINDOW_S}s   daemon CPU ${(cpu1 - cpu0).toFixed(0).padStart(6)} ms = ${per.toFixed(2).padStart(6)} ms/check   probe latency median ${median(lat).toFixed(0).padStart(4)} ms`,
    );
  } finally {
    await cli(['rm', '-f', ...names]);
  }
}

async function main(): Promise<void> {
  const d = new TestDaemon();
  try {
    await d.start(['--log-level', 'error']);
    await d.makeBusybox();
    console.log(`health checks: ${CONTAINERS} containers, 1 check/s each, ${WINDOW_S}s window, ${new Date().toISOString()}`);
    await measure('berthd', (a) => d.docker(a), () => [d.proc!.pid!]);
    if (fs.existsSync('/var/run/docker.sock')) {
      const env = { ...process.env, DOCKER_HOST: 'unix:///var/run/docker.sock' };
      const cli: Cli = (a) => run(DOCKER, a, { env });
      if ((await cli(['image', 'inspect', 'busybox'])).code === 0) {
        await measure('dockerd', cli, () => [...pidsOf('-x', 'dockerd'), ...pidsOf('-x', 'containerd'), ...pidsOf('-f', 'containerd-shim')]);
      } else console.log('  (dockerd has no busybox image: skipped)');
    } else console.log('  (no dockerd: skipped)');
  } finally {
    await d.cleanup();
  }
}

void main();
