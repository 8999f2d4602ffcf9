import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { TestDaemon, BERTH, until, sleep } from '../helpers/daemon.js';

const a = new TestDaemon();
const b = new TestDaemon();

before(async () => {
  await Promise.all([a.start(), b.start()]);
  await Promise.all([a.makeBusybox(), b.makeBusybox()]);
});

after(async () => {
  await Promise.all([a.cleanup(), b.cleanup()]);
});

test('two berthd side by side: same container names, separate state', async () => {
  assert.equal((await a.berth(['run', '-d', '--name', 'same', 'busybox', 'sleep', '300'])).code, 0);
  assert.equal((await b.berth(['run', '-d', '--name', 'same', 'busybox', 'sleep', '300'])).code, 0);
  const ida = (await a.berth(['inspect', '-f', '{{.Id}}', 'same'])).stdout;
  const idb = (await b.berth(['inspect', '-f', '{{.Id}}', 'same'])).stdout;
  assert.notEqual(ida, idb);
  assert.equal((await a.berth(['rm', '-f', 'same'])).code, 0);
  assert.equal((await b.berth(['inspect', '-f', '{{.State.Status}}', 'same'])).stdout, 'running\n');
  await b.berth(['rm', '-f', 'same']);
  const clash = await a.berth(['version']);
  assert.equal(clash.code, 0);
});

test('a second berthd on the same pidfile refuses to start', async () => {
  const c = new TestDaemon();
  try {
    await assert.rejects(c.start(['--pidfile', `${a.execRoot}/berthd.pid`]), /pid file found, ensure berthd is not running or delete/);
  } finally {
    await c.cleanup();
  }
});

test('one container\'s conmon dying does not affect another', async () => {
  await a.berth(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '300']);
  await a.berth(['run', '-d', '--name', 'bystander', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
  const id = (await a.berth(['inspect', '-f', '{{.Id}}', 'victim'])).stdout.trim();
  const conmon = fs.readFileSync(`${a.execRoot}/bundles/${id}/conmon.pid`, 'utf8').trim();
  process.kill(Number(conmon), 'SIGKILL');
  await sleep(500);
  assert.equal((await a.berth(['inspect', '-f', '{{.State.Status}}', 'bystander'])).stdout, 'running\n');
  assert.equal((await a.berth(['exec', 'bystander', 'echo', 'fine'])).stdout, 'fine\n');
  const before = (await a.berth(['logs', 'bystander'])).stdout.length;
  await until(async () => (await a.berth(['logs', 'bystander'])).stdout.length > before);
  // The orphaned container can still be removed.
  assert.equal((await a.berth(['rm', '-f', 'victim'])).code, 0);
  await a.berth(['rm', '-f', 'bystander']);
});

test('--init runs docker-init as PID 1, --read-only makes / read-only', async () => {
  const init = await a.berth(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /^\/sbin\/docker-init -- sh -c/);
  const ro = await a.berth(['run', '--rm', '--read-only', 'busybox', 'touch', '/x']);
  assert.equal(ro.code, 1);
  assert.match(ro.stderr, /Read-only file system/);
  const tmp = await a.berth(['run', '--rm', '--read-only', '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'touch /scratch/ok && echo ok']);
  assert.equal(tmp.stdout, 'ok\n');
});

test('signals sent to an attached run are proxied to the container', async () => {
  const child = spawn(process.execPath, [BERTH, 'run', '--rm', '--name', 'sigs', 'busybox', 'sh', '-c', 'trap "echo got TERM; exit 3" TERM; echo ready; while true; do sleep 0.1; done'], {
    env: a.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await until(() => out.includes('ready'), 10_000);
  child.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout')]);
  assert.equal(code, 3);
  assert.match(out, /got TERM/);
});

test('attach to a running container streams its output and returns its exit code', async () => {
  await a.berth(['run', '-d', '--name', 'att', 'busybox', 'sh', '-c', 'sleep 1; echo late-output; exit 5']);
  const r = await a.berth(['attach', 'att'], { timeoutMs: 15_000 });
  assert.equal(r.stdout, 'late-output\n');
  assert.equal(r.code, 5);
  await a.berth(['rm', 'att']);
});

test('container and image command groups work like the top-level forms', async () => {
  await a.berth(['container', 'create', '--name', 'grp', 'busybox', 'true']);
  const ls = await a.berth(['container', 'ls', '-a', '--filter', 'name=grp', '--format', '{{.Names}}']);
  assert.equal(ls.stdout, 'grp\n');
  assert.equal((await a.berth(['container', 'rm', 'grp'])).stdout, 'grp\n');
  const img = await a.berth(['image', 'ls', '--format', '{{.Repository}}']);
  assert.match(img.stdout, /^busybox$/m);
  const typ = await a.berth(['inspect', '--type', 'image', '-f', '{{.Os}}', 'busybox']);
  assert.equal(typ.stdout, 'linux\n');
});

test('with no daemon the CLI says how to start one, in one line', async () => {
  const r = await a.berth(['ps'], { env: { BERTH_HOST: 'unix:///tmp/no-such-berth.sock', DOCKER_HOST: '' } });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /Cannot connect to the berth daemon at unix:\/\/\/tmp\/no-such-berth.sock. Is the berth daemon running\?/);
  assert.match(r.stderr, /berthd/);
});
