/**
 * CLI start-up cost, side by side in one run: `node -e 0`, the berth CLI (the compiled module
 * tree <out>/src/cli/main.js as before bundling, the bundle without and with its code cache) and
 * the docker CLI, each for `--version` and `ps` against the same private berthd; optionally
 * `image inspect` and `run --rm`. Runs are interleaved (one of each case per round) so a machine
 * whose load changes during the run skews every case alike.
 *
 * Usage (root): node dist/bench/cli-startup.js [rounds=20] [--full]
 *   BERTH_BENCH_OLD=<path of another main.js or berth-cli.cjs> adds that entry as "berth (old)".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { median } from './measure.js';
import { TestDaemon, BERTH_MAIN, BERTH_BUNDLE, DOCKER, REPO } from '../test/helpers/daemon.js';

const ROUNDS = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20);
const FULL = process.argv.includes('--full');

interface Case {
  name: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

function timeOnce(c: Case, env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.cmd, c.args, { env: { ...env, ...c.env }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${c.name}: exit ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
  return ms;
}

async function main(): Promise<void> {
  const d = new TestDaemon();
  // a private code cache, so the "cold" case starts from nothing and runs leave no trace
  const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cli-cache-'));
  try {
    await d.start(['--log-level', 'error']);
    if (FULL) await d.makeBusybox();
    const env: NodeJS.ProcessEnv = { ...d.env, XDG_CACHE_HOME: cacheHome };
    const node = process.execPath;
    const berths: Array<[string, string, NodeJS.ProcessEnv?]> = [['berth (module tree)', BERTH_MAIN]];
    if (process.env.BERTH_BENCH_OLD) berths.unshift(['berth (old)', process.env.BERTH_BENCH_OLD]);
    if (fs.existsSync(BERTH_BUNDLE)) {
      berths.push(['berth (bundle, no cache)', BERTH_BUNDLE, { BERTH_CLI_CACHE: 'off' }]);
      berths.push(['berth (bundle + code cache)', BERTH_BUNDLE]);
    } else {
      console.log(`(no ${BERTH_BUNDLE}: run npm run build for the bundled CLI)`);
    }
    const commands: string[][] = [['--version'], ['ps']];
    if (FULL) commands.push(['image', 'inspect', 'busybox'], ['run', '--rm', 'busybox', 'true']);
    const cases: Case[] = [{ name: 'node -e 0', cmd: node, args: ['-e', '0'] }];
    if (env.NODE_EXTRA_CA_CERTS) {
      // node parses every root certificate at start-up when this is set
      cases.push({ name: 'node -e 0 (no NODE_EXTRA_CA_CERTS)', cmd: node, args: ['-e', '0'], env: { NODE_EXTRA_CA_CERTS: '' } });
    }
    for (const argv of commands) {
      for (const [name, entry, e] of berths) cases.push({ name: `${name} ${argv.join(' ')}`, cmd: node, args: [entry, ...argv], env: e });
      // what a user runs: the shell entry, which keeps NODE_EXTRA_CA_CERTS from node's start-up
      if (BERTH_BUNDLE === path.join(REPO, 'dist/berth-cli.cjs')) cases.push({ name: `bin/berth ${argv.join(' ')}`, cmd: path.join(REPO, 'bin/berth'), args: argv });
      if (fs.existsSync(DOCKER)) cases.push({ name: `docker ${argv.join(' ')}`, cmd: DOCKER, args: argv });
    }
    // warm-up: page cache, the daemon's first requests, and the code cache it writes
    for (const c of cases) for (let i = 0; i < 2; i++) timeOnce(c, env);
    const times = cases.map(() => [] as number[]);
    for (let i = 0; i < ROUNDS; i++) cases.forEach((c, k) => times[k]!.push(timeOnce(c, env)));

    console.log(`CLI start-up, ${ROUNDS} interleaved rounds (ms), node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}, ${new Date().toISOString()}`);
    console.log(`  ${'case'.padEnd(44)} ${'median'.padStart(7)} ${'p25'.padStart(7)} ${'min'.padStart(7)}`);
    cases.forEach((c, k) => {
      const xs = [...times[k]!].sort((a, b) => a - b);
      console.log(`  ${c.name.padEnd(44)} ${median(xs).toFixed(1).padStart(7)} ${xs[Math.floor(xs.length / 4)]!.toFixed(1).padStart(7)} ${xs[0]!.toFixed(1).padStart(7)}`);
    });
  } finally {
    fs.rmSync(cacheHome, { recursive: true, force: true });
    await d.cleanup();
  }
}

void main();
