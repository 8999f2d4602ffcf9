/**
 * Issue 4 figures, side by side in one run: `commit` of a container that
 * changed 1,000 files, and `stats --no-stream` with 20 running containers;
 * berthd vs dockerd (when one answers at /var/run/docker.sock with a busybox image).
 *
 * Usage (root): node dist/bench/container-ops.js [repeats=5]
 */
import fs from 'node:fs';
import { median, timed } from './measure.js';
import { TestDaemon, DOCKER, run } from '../test/helpers/daemon.js';

const N = Number(process.argv[2] ?? 5);



type Cli = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

async function measure(name: string, cli: Cli): Promise<void> {
  const commits: number[] = [];
  for (let i = 0; i < N; i++) {
    const c = `bench-commit-${process.pid}-${i}`;
    const r = await cli(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'mkdir /data && for i in $(seq 1000); do echo $i > /data/f$i; done; sleep 300']);
    if (r.code !== 0) throw new Error(r.stderr);
    for (let k = 0; k < 100 && (await cli(['exec', c, 'test', '-f', '/data/f1000'])).code !== 0; k++) await new Promise((res) => setTimeout(res, 100));
    commits.push(await timed(() => cli(['commit', c, `bench-img:${i}`])));
    await cli(['rm', '-f', c]);
    await cli(['rmi', `bench-img:${i}`]);
  }
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push((await cli(['run', '-d', 'busybox', 'sleep', '300'])).stdout.trim());
  const stats: number[] = [];
  for (let i = 0; i < N; i++) stats.push(await timed(() => cli(['stats', '--no-stream'])));
  await cli(['rm', '-f', ...ids]);
  console.log(`  ${name.padEnd(10)} commit (1,000 files) median ${median(commits).toFixed(0).padStart(6)} ms   stats --no-stream x20 median ${median(stats).toFixed(0).padStart(6)} ms`);
}

async function main(): Promise<void> {
  const d = new TestDaemon();
  try {
    await d.start(['--log-level', 'error']);
    await d.makeBusybox();
    console.log(`container ops, median of ${N}, ${new Date().toISOString()}`);
    await measure('berthd', (a) => d.docker(a));
    if (fs.existsSync('/var/run/docker.sock')) {
      const env = { ...process.env, DOCKER_HOST: 'unix:///var/run/docker.sock' };
      await measure('dockerd', (a) => run(DOCKER, a, { env }));
    } else console.log('  (no dockerd: skipped)');
  } finally {
    await d.cleanup();
  }
}

void main();
