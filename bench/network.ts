/**
 * Networking costs, side by side in one run (docker CLI → berthd, and docker
 * CLI → dockerd when one answers at /var/run/docker.sock with a busybox image):
 *   `run --rm busybox true` on the default bridge, on a user-defined network and with --network none;
 *   starting 50 containers (`run -d … sleep`) on one user network, one after the other.
 *
 * Usage (root): node dist/bench/network.js [iterations=15] [containers=50]
 */
import fs from 'node:fs';
import os from 'node:os';
import { median, timed } from './measure.js';
import { TestDaemon, DOCKER, run, type RunResult } from '../test/helpers/daemon.js';

const N = Number(process.argv[2] ?? 15);
const MANY = Number(process.argv[3] ?? 50);

type Cli = (args: string[]) => Promise<RunResult>;

async function must(cli: Cli, args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function series(fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < N; i++) out.push(await timed(fn));
  return out;
}

/** The measurements for one engine; the user network is created and removed here. */
async function measure(cli: Cli, tag: string): Promise<Record<string, number>> {
  const net = `benchnet-${process.pid}-${tag}`;
  await must(cli, ['network', 'create', net]);
  const ids: string[] = [];
  try {
    const res: Record<string, number> = {};
    res['run --rm true (default bridge)'] = median(await series(() => must(cli, ['run', '--rm', 'busybox', 'true'])));
    res['run --rm true (user network)'] = median(await series(() => must(cli, ['run', '--rm', '--network', net, 'busybox', 'true'])));
    res['run --rm true (--network none)'] = median(await series(() => must(cli, ['run', '--rm', '--network', 'none', 'busybox', 'true'])));
    res[`start ${MANY} on one network (total)`] = await timed(async () => {
      for (let i = 0; i < MANY; i++) ids.push((await must(cli, ['run', '-d', '--network', net, 'busybox', 'sleep', '600'])).trim());
    });
    return res;
  } finally {
    for (let i = 0; i < ids.length; i += 25) await cli(['rm', '-f', ...ids.slice(i, i + 25)]);
    await cli(['network', 'rm', net]);
  }
}

async function main(): Promise<void> {
  const d = new TestDaemon();
  try {
    await d.start(['--log-level', 'error']);
    await d.makeBusybox();
    const rows: Array<[string, Record<string, number>]> = [];
    rows.push(['docker CLI -> berthd', await measure((a) => d.docker(a, { timeoutMs: 120_000 }), 'berth')]);
    if (fs.existsSync('/var/run/docker.sock')) {
      const env = { ...process.env, DOCKER_HOST: 'unix:///var/run/docker.sock' };
      const dockerd: Cli = (a) => run(DOCKER, a, { env, timeoutMs: 120_000 });
      if ((await dockerd(['image', 'inspect', 'busybox'])).code === 0) rows.push(['docker CLI -> dockerd', await measure(dockerd, 'dockerd')]);
      else console.log('(dockerd found but it has no busybox image: skipped)');
    } else {
      console.log('(no dockerd at /var/run/docker.sock: skipped)');
    }
    console.log(`networking, medians of ${N} (ms), ${os.cpus().length} cores, ${new Date().toISOString()}`);
    const keys = Object.keys(rows[0]![1]);
    console.log(`  ${''.padEnd(36)}${rows.map(([n]) => n.padStart(24)).join('')}${rows.length > 1 ? '   berthd/dockerd' : ''}`);
    for (const k of keys) {
      const vals = rows.map(([, r]) => r[k]!);
      const ratio = vals.length > 1 ? `   ${(vals[0]! / vals[1]!).toFixed(2)}` : '';
      console.log(`  ${k.padEnd(36)}${vals.map((v) => v.toFixed(1).padStart(24)).join('')}${ratio}`);
    }
  } finally {
    await d.cleanup();
  }
}

void main();
