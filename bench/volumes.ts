/**
 * Container start with mounts: `run --rm busybox true` with no mounts, and with
 * 5 named volumes + 5 bind mounts; the difference divided by 10 is the
 * overhead per mount. berth CLI -> berthd, and docker CLI -> dockerd in the
 * same run when one answers at /var/run/docker.sock with a busybox image.
 *
 * Usage (root): node dist/bench/volumes.js [iterations=15]
 */
import fs from 'node:fs';
import path from 'node:path';
import { median, timed } from './measure.js';
import { TestDaemon, DOCKER, run, type RunResult } from '../test/helpers/daemon.js';

const N = Number(process.argv[2] ?? 15);

/** Both variants alternate, so a busy machine slows them alike. */
async function paired(a: () => Promise<RunResult>, b: () => Promise<RunResult>): Promise<[number, number]> {
  for (const f of [a, b]) {
    const first = await f(); // warm-up; also makes the named volumes
    if (first.code !== 0) throw new Error(`warm-up failed: ${first.stderr}`);
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < N; i++) {
    ta.push(await timed(a));
    tb.push(await timed(b));
  }
  return [median(ta), median(tb)];
}

function mountArgs(dir: string, prefix: string): string[] {
  const args: string[] = [];
  for (let i = 0; i < 5; i++) args.push('-v', `${prefix}-vol${i}:/vol${i}`);
  for (let i = 0; i < 5; i++) {
    const src = path.join(dir, `${prefix}-bind${i}`);
    fs.mkdirSync(src, { recursive: true });
    args.push('-v', `${src}:/bind${i}`);
  }
  return args;
}

async function main(): Promise<void> {
  const d = new TestDaemon();
  const rows: Array<[string, number, number]> = [];
  try {
    await d.start(['--log-level', 'error']);
    await d.makeBusybox();
    const args = mountArgs(d.dir, 'berth');
    const [none, ten] = await paired(() => d.berth(['run', '--rm', 'busybox', 'true']), () => d.berth(['run', '--rm', ...args, 'busybox', 'true']));
    rows.push(['berth CLI -> berthd', none, ten]);
    if (fs.existsSync('/var/run/docker.sock')) {
      const env = { ...process.env, DOCKER_HOST: 'unix:///var/run/docker.sock' };
      if ((await run(DOCKER, ['image', 'inspect', 'busybox'], { env })).code === 0) {
        const dargs = mountArgs(d.dir, 'dockerd');
        const [dnone, dten] = await paired(
          () => run(DOCKER, ['run', '--rm', '--network', 'none', 'busybox', 'true'], { env }),
          () => run(DOCKER, ['run', '--rm', '--network', 'none', ...dargs, 'busybox', 'true'], { env }),
        );
        rows.push(['docker CLI -> dockerd (net none)', dnone, dten]);
        for (let i = 0; i < 5; i++) await run(DOCKER, ['volume', 'rm', `dockerd-vol${i}`], { env });
      } else console.log('(dockerd found but it has no busybox image: skipped)');
    } else console.log('(no dockerd at /var/run/docker.sock: dockerd skipped)');
  } finally {
    await d.cleanup();
  }
  console.log(`run --rm busybox true, median of ${N}:`);
  console.log('engine'.padEnd(34) + 'no mounts'.padStart(11) + '5 vol + 5 bind'.padStart(16) + 'per mount'.padStart(11));
  for (const [name, a, b] of rows) {
    console.log(name.padEnd(34) + `${a.toFixed(0)} ms`.padStart(11) + `${b.toFixed(0)} ms`.padStart(16) + `${((b - a) / 10).toFixed(1)} ms`.padStart(11));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
