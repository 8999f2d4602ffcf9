import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../helpers/daemon.js';

// --device, --device-cgroup-rule, --cgroupns, --oom-kill-disable, --oom-score-adj. Only harmless
// devices: /dev/zero, and /dev/loop-control opened without any ioctl.
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

test('--device adds the host node under another name, with its cgroup permission', async () => {
  const r = await ok(['run', '--rm', '--device', '/dev/zero:/dev/myzero', 'busybox', 'sh', '-c', 'ls -l /dev/myzero | cut -c1-10; stat -c "%t %T" /dev/myzero; head -c 4 /dev/myzero | od -An -tx1']);
  assert.equal(r.stdout, 'crw-rw-rw-\n1 5\n 00 00 00 00\n');
  // Not in the default allow list: only reachable through --device, and only with the access granted.
  const none = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'mknod /dev/lc c 10 237 && exec 3</dev/lc']);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /Operation not permitted/);
  const ro = await d.berth(['run', '--rm', '--device', '/dev/loop-control:/dev/lc:r', 'busybox', 'sh', '-c', 'exec 3</dev/lc && echo read-ok; exec 4>/dev/lc && echo write-ok']);
  assert.equal(ro.stdout, 'read-ok\n');
  assert.match(ro.stderr, /Operation not permitted/);
  // The docker CLI's --device reaches the same code.
  const dk = await d.docker(['run', '--rm', '--device', '/dev/zero:/dev/z:rwm', 'busybox', 'stat', '-c', '%t %T', '/dev/z']);
  assert.equal(dk.code, 0, dk.stderr);
  assert.equal(dk.stdout, '1 5\n');
});

test('a missing host device fails the start with dockerd\'s text', async () => {
  const r = await d.berth(['run', '--name', 'nodev', '--device', '/dev/nope', 'busybox', 'true']);
  assert.equal(r.code, 127);
  assert.match(r.stderr, /error gathering device information while adding custom device "\/dev\/nope": no such file or directory/);
  assert.equal((await ok(['inspect', '--format', '{{.State.Status}}', 'nodev'])).stdout, 'created\n');
  await ok(['rm', 'nodev']);
  const f = await d.berth(['run', '--rm', '--device', '/etc/hostname', 'busybox', 'true']);
  assert.notEqual(f.code, 0);
  assert.match(f.stderr, /adding custom device "\/etc\/hostname": not a device node/);
});

test('--device-cgroup-rule allows a device the container creates itself; bad rules fail at create', async () => {
  const r = await ok(['run', '--rm', '--device-cgroup-rule', 'c 10:237 r', 'busybox', 'sh', '-c', 'mknod /dev/lc c 10 237 && exec 3</dev/lc && echo opened']);
  assert.equal(r.stdout, 'opened\n');
  const api = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { DeviceCgroupRules: ['c 10:237 x'] } });
  assert.equal(api.status, 400);
  assert.equal(api.json().message, "invalid device cgroup rule format: 'c 10:237 x'");
});

test('--cgroupns, --oom-kill-disable and --oom-score-adj reach the container', async () => {
  const adj = await ok(['run', '--rm', '--oom-score-adj', '500', 'busybox', 'cat', '/proc/self/oom_score_adj']);
  assert.equal(adj.stdout, '500\n');
  const host = await ok(['run', '--rm', '--cgroupns', 'host', 'busybox', 'readlink', '/proc/self/ns/cgroup']);
  const priv = await ok(['run', '--rm', '--cgroupns', 'private', 'busybox', 'readlink', '/proc/self/ns/cgroup']);
  const mine = (await import('node:fs')).readlinkSync('/proc/self/ns/cgroup');
  assert.equal(host.stdout.trim(), mine);
  assert.notEqual(priv.stdout.trim(), mine);
  await ok(['create', '--name', 'ook', '-m', '32m', '--oom-kill-disable', 'busybox']);
  assert.equal((await ok(['inspect', '--format', '{{.HostConfig.OomKillDisable}}', 'ook'])).stdout, 'true\n');
  await ok(['rm', 'ook']);
  const bad = await d.berth(['create', '--cgroupns', 'shared', 'busybox']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid cgroup namespace mode: shared/);
});
