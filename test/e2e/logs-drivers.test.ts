import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { TestDaemon, until, sleep, BERTH } from '../helpers/daemon.js';

// Log drivers: json-file rotation (max-size, max-file), local, none, bad options, daemon defaults, restarts.
const d = new TestDaemon();

before(async () => {
  await d.start();
  await d.makeBusybox();
});

after(async () => {
  await d.cleanup();
});

async function ok(args: string[]) {
  const r = await d.berth(args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const inspect = async (name: string, fmt: string) => (await ok(['inspect', '--format', fmt, name])).stdout.trim();

/** Lines `n` … `to` as `seq` prints them. */
const seq = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

test('json-file rotates at max-size, keeps max-file files, and logs reads across them', async () => {
  // ~30 bytes per line on disk: 300 lines ≈ 9 kB, far past 1k × 2 files.
  await ok(['run', '-d', '--name', 'rot', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', 'i=1; while [ $i -le 300 ]; do echo $i; i=$((i+1)); usleep 20000; done']);
  const logPath = await inspect('rot', '{{.LogPath}}');
  assert.match(logPath, /\/rot|-json\.log$/);
  assert.deepEqual(JSON.parse(await inspect('rot', '{{json .HostConfig.LogConfig}}')), { Type: 'json-file', Config: { 'max-file': '2', 'max-size': '1k' } });
  await until(async () => fs.existsSync(logPath + '.1'), 10_000);
  await until(async () => (await inspect('rot', '{{.State.Status}}')) === 'exited', 30_000, 200);
  // Never more than max-file files.
  assert.ok(!fs.existsSync(logPath + '.2'), 'only max-file files are kept');
  const r = await ok(['logs', 'rot']);
  const lines = r.stdout.trim().split('\n');
  // What is kept is the tail, in order, without gaps or repeats.
  assert.ok(lines.length < 300 && lines.length >= 20, `kept ${lines.length} lines`);
  assert.deepEqual(lines, seq(301 - lines.length, 300));
  // The older file holds the first part of what is kept.
  const older = fs.readFileSync(logPath + '.1', 'utf8').trim().split('\n').map((l) => l.split(' ').at(-1));
  assert.deepEqual(older, lines.slice(0, older.length));
  const tail = await ok(['logs', '--tail', '3', 'rot']);
  assert.equal(tail.stdout, '298\n299\n300\n');
  // The docker CLI reads the same.
  const dk = await d.docker(['logs', 'rot']);
  assert.equal(dk.code, 0, dk.stderr);
  assert.equal(dk.stdout, r.stdout);
  await ok(['rm', 'rot']);
});

test('logs -f follows across rotations without losing or repeating a line', async () => {
  await ok(['create', '--name', 'fol', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', 'sleep 1; i=1; while [ $i -le 200 ]; do echo $i; i=$((i+1)); usleep 10000; done']);
  await ok(['start', 'fol']);
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn('node', [BERTH, 'logs', '-f', 'fol'], { env: d.env });
    let buf = '';
    p.stdout.on('data', (c: Buffer) => (buf += c.toString()));
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`logs -f did not end: ${buf.slice(-200)}`));
    }, 30_000);
    p.on('close', () => {
      clearTimeout(timer);
      resolve(buf);
    });
  });
  assert.deepEqual(out.trim().split('\n'), seq(1, 200));
  await ok(['rm', 'fol']);
});

test('max-file=1 truncates (conmon replaces the file); local keeps its own files; LogPath as dockerd', async () => {
  await ok(['run', '--name', 'one', '--log-opt', 'max-size=2k', 'busybox', 'sh', '-c', 'i=1; while [ $i -le 400 ]; do echo $i; i=$((i+1)); done']);
  const lp = await inspect('one', '{{.LogPath}}');
  assert.ok(fs.statSync(lp).size <= 2048, 'within max-size');
  assert.ok(!fs.existsSync(lp + '.1'));
  const lines = (await ok(['logs', 'one'])).stdout.trim().split('\n');
  assert.equal(lines.at(-1), '400');
  assert.ok(lines.length < 400);

  await ok(['run', '--name', 'loc', '--log-driver', 'local', 'busybox', 'echo', 'local hello']);
  assert.equal(await inspect('loc', '{{.LogPath}}'), '');
  assert.equal((await ok(['logs', 'loc'])).stdout, 'local hello\n');
  assert.deepEqual(JSON.parse(await inspect('loc', '{{json .HostConfig.LogConfig}}')), { Type: 'local', Config: {} });
  await ok(['rm', 'one', 'loc']);
});

test('--log-driver none: no log, logs fails with dockerd\'s text; bad drivers and options fail at create', async () => {
  await ok(['run', '--name', 'nolog', '--log-driver', 'none', 'busybox', 'echo', 'gone']);
  assert.equal(await inspect('nolog', '{{.LogPath}}'), '');
  const r = await d.berth(['logs', 'nolog']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error response from daemon: configured logging driver does not support reading\n');
  const dk = await d.docker(['logs', 'nolog']);
  assert.equal(dk.stderr, 'Error response from daemon: configured logging driver does not support reading\n');
  // Attached output still reaches the client.
  const att = await ok(['run', '--rm', '--log-driver', 'none', 'busybox', 'echo', 'attached']);
  assert.equal(att.stdout, 'attached\n');
  await ok(['rm', 'nolog']);

  const before = (await ok(['ps', '-aq'])).stdout;
  const cases: Array<[string[], string]> = [
    [['--log-driver', 'nosuch'], "logger: no log driver named 'nosuch' is registered"],
    [['--log-opt', 'foo=bar'], "unknown log opt 'foo' for json-file log driver"],
    [['--log-driver', 'local', '--log-opt', 'tag=x'], "unknown log opt 'tag' for log driver local"],
    [['--log-opt', 'max-size=lots'], "invalid size: 'lots'"],
    [['--log-opt', 'max-size=1k', '--log-opt', 'max-file=0'], 'max-file cannot be less than 1'],
    [['--log-opt', 'mode=sometimes'], 'logger: logging mode not supported: sometimes'],
  ];
  for (const [flags, msg] of cases) {
    const c = await d.berth(['create', ...flags, 'busybox']);
    assert.equal(c.code, 125, `${flags.join(' ')}: ${c.stderr}`);
    assert.equal(c.stderr, `berth: Error response from daemon: ${msg}\n\nRun 'berth create --help' for more information\n`);
  }
  assert.equal((await ok(['ps', '-aq'])).stdout, before, 'nothing created');
});

test('logs keep working across a berthd restart, with rotation resumed', async () => {
  await ok(['run', '-d', '--name', 'rs', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', 'sleep 2; i=1; while [ $i -le 150 ]; do echo $i; i=$((i+1)); usleep 20000; done; sleep 300']);
  await d.kill9();
  await sleep(4000); // the container writes ~3 kB meanwhile, past max-size with nobody rotating
  await d.start();
  const lp = await inspect('rs', '{{.LogPath}}');
  await until(async () => (await ok(['logs', '--tail', '1', 'rs'])).stdout === '150\n', 20_000, 200);
  const lines = (await ok(['logs', 'rs'])).stdout.trim().split('\n');
  assert.deepEqual(lines, seq(Number(lines[0]), 150));
  assert.ok(fs.existsSync(lp + '.1'), 'rotated after the restart');
  await ok(['rm', '-f', 'rs']);
});

test('daemon-wide --log-driver and --log-opt apply to new containers', async () => {
  const d2 = new TestDaemon();
  try {
    await d2.start(['--log-driver', 'local', '--log-opt', 'max-size=5k']);
    await d2.makeBusybox();
    const r = await d2.berth(['run', '--name', 'dd', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    const lc = await d2.berth(['inspect', '--format', '{{json .HostConfig.LogConfig}}', 'dd']);
    assert.deepEqual(JSON.parse(lc.stdout), { Type: 'local', Config: { 'max-size': '5k' } });
    // Options of the daemon's driver do not leak into another driver.
    const r2 = await d2.berth(['run', '--name', 'dj', '--log-driver', 'json-file', 'busybox', 'echo', 'hi']);
    assert.equal(r2.code, 0, r2.stderr);
    const lc2 = await d2.berth(['inspect', '--format', '{{json .HostConfig.LogConfig}}', 'dj']);
    assert.deepEqual(JSON.parse(lc2.stdout), { Type: 'json-file', Config: {} });
    assert.equal((await d2.berth(['logs', 'dd'])).stdout, 'hi\n');
  } finally {
    await d2.cleanup();
  }
  const d3 = new TestDaemon();
  try {
    await assert.rejects(d3.start(['--log-opt', 'foo=bar']));
    assert.match(d3.log, /failed to set log opts: unknown log opt 'foo' for json-file log driver/);
  } finally {
    await d3.cleanup();
  }
});
