/**
 * `run --rm busybox true` latency, side by side in one run:
 *   raw `runc run` on the same rootfs, docker CLI → berthd, berth CLI → berthd,
 *   and docker CLI → dockerd when one answers at /var/run/docker.sock (with a busybox image).
 * Also berthd's idle RSS and conmon's RSS per running container.
 *
 * Usage (root): node dist/bench/run-latency.js [iterations=20]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { median, timed } from './measure.js';
import { TestDaemon, BERTH, DOCKER, run } from '../test/helpers/daemon.js';

const N = Number(process.argv[2] ?? 20);


async function time(fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < N; i++) out.push(await timed(fn));
  return out;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

async function rawRunc(): Promise<() => Promise<unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-runc-'));
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'etc']) fs.mkdirSync(path.join(rootfs, d));
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(rootfs, 'bin/true'));
  execFileSync('/usr/sbin/runc', ['spec'], { cwd: dir });
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  let i = 0;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return () => run('/usr/sbin/runc', ['--root', path.join(dir, 'state'), 'run', '--bundle', dir, `bench-${process.pid}-${i++}`]);
}

async function main(): Promise<void> {
  const d = new TestDaemon();
  const results: Array<[string, number[]]> = [];
  try {
    await d.start(['--log-level', 'error']);
    await d.makeBusybox();
    results.push(['runc run (raw, same rootfs)', await time(await rawRunc())]);
    results.push(['docker CLI -> berthd', await time(() => d.docker(['run', '--rm', 'busybox', 'true']))]);
    results.push(['berth CLI -> berthd', await time(() => d.berth(['run', '--rm', 'busybox', 'true']))]);
    if (fs.existsSync('/var/run/docker.sock')) {
      const env = { ...process.env, DOCKER_HOST: 'unix:///var/run/docker.sock' };
      const ok = await run(DOCKER, ['image', 'inspect', 'busybox'], { env });
      if (ok.code === 0) {
        results.push(['docker CLI -> dockerd', await time(() => run(DOCKER, ['run', '--rm', 'busybox', 'true'], { env }))]);
        // berth has no bridge networking yet: also compare with dockerd doing none.
        results.push(['docker CLI -> dockerd (net none)', await time(() => run(DOCKER, ['run', '--rm', '--network', 'none', 'busybox', 'true'], { env }))]);
      }
      else console.log('(dockerd found but it has no busybox image: skipped)');
    } else {
      console.log('(no dockerd at /var/run/docker.sock: docker -> dockerd skipped)');
    }
    const idle = rssKb(d.proc!.pid!);
    // conmon per running container.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await d.berth(['run', '-d', 'busybox', 'sleep', '300'])).stdout.trim());
    const conmons = fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          const c = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
          return c.startsWith('/usr/bin/conmon') && c.includes(d.execRoot);
        } catch {
          return false;
        }
      })
      .map((p) => rssKb(Number(p)));
    const busy = rssKb(d.proc!.pid!);
    await d.berth(['rm', '-f', ...ids]);

    const base = median(results[0]![1]);
    console.log(`run --rm busybox true, median of ${N} (ms), ${os.cpus().length} cores, ${new Date().toISOString()}`);
    for (const [name, xs] of results) {
      const m = median(xs);
      console.log(`  ${name.padEnd(30)} median ${m.toFixed(1).padStart(7)}  min ${Math.min(...xs).toFixed(1).padStart(7)}  x runc ${(m / base).toFixed(2)}`);
    }
    const dk = results.find((r) => r[0] === 'docker CLI -> dockerd');
    const db = results.find((r) => r[0] === 'docker CLI -> berthd')!;
    if (dk) console.log(`  docker->berthd / docker->dockerd = ${(median(db[1]) / median(dk[1])).toFixed(2)} (target <= 0.5)`);
    const dn = results.find((r) => r[0] === 'docker CLI -> dockerd (net none)');
    if (dn) console.log(`  docker->berthd / docker->dockerd (net none) = ${(median(db[1]) / median(dn[1])).toFixed(2)}`);
    console.log(`berthd RSS idle: ${(idle / 1024).toFixed(1)} MiB; with 5 containers: ${(busy / 1024).toFixed(1)} MiB`);
    console.log(`conmon RSS per container: ${conmons.map((k) => (k / 1024).toFixed(1)).join(', ')} MiB`);
  } finally {
    await d.cleanup();
  }
}

void main();
