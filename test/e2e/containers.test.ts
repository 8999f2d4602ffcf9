import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestDaemon, until, sleep } from '../helpers/daemon.js';

// One private berthd for the whole file; each test names its containers.
const d = new TestDaemon();

before(async () => {
  await d.start();
  await d.makeBusybox();
});

after(async () => {
  await d.cleanup();
});

async function psNames(all = true): Promise<string[]> {
  const r = await d.berth(['ps', ...(all ? ['-a'] : []), '--format', '{{.Names}}']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('run --rm prints the output, exits 0 and leaves no container', async () => {
  const r = await d.berth(['run', '--rm', '--name', 'hello', 'busybox', 'echo', 'hello from berth']);
  assert.equal(r.stdout, 'hello from berth\n');
  assert.equal(r.code, 0, r.stderr);
  await until(async () => !(await psNames()).includes('hello'), 5000);
});

test('the exit code of the container is the exit code of run; stdout and stderr stay apart', async () => {
  const r = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('a missing executable exits 127, a non-executable file 126, each with a one-line error', async () => {
  const missing = await d.berth(['run', '--rm', 'busybox', 'nosuchcmd']);
  assert.equal(missing.code, 127, missing.stderr);
  assert.match(missing.stderr, /nosuchcmd/);
  assert.match(missing.stderr, /executable file not found|no such file/);
  const noexec = await d.berth(['run', '--rm', 'busybox', '/etc/passwd']);
  assert.equal(noexec.code, 126, noexec.stderr);
  assert.match(noexec.stderr, /permission denied/);
});

test('an unknown image fails with 125 and creates nothing', async () => {
  const before = await psNames();
  const r = await d.berth(['run', '--name', 'ghost', 'no-such-image:v1', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /Unable to find image 'no-such-image:v1' locally/);
  assert.deepEqual(await psNames(), before);
});

test('a name already in use is a 409 conflict with docker\'s text, and the first container is untouched', async () => {
  const a = await d.berth(['create', '--name', 'dup', 'busybox', 'true']);
  assert.equal(a.code, 0, a.stderr);
  const id = a.stdout.trim();
  const b = await d.berth(['create', '--name', 'dup', 'busybox', 'true']);
  assert.equal(b.code, 125);
  assert.match(b.stderr, new RegExp(`Conflict. The container name "/dup" is already in use by container "${id}". You have to remove \\(or rename\\) that container to be able to reuse that name.`));
  const api = await d.api('POST', '/v1.47/containers/create?name=dup', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(api.status, 409);
  assert.match(api.json().message, /is already in use/);
  assert.equal((await d.berth(['rm', 'dup'])).code, 0);
});

test('a bad --memory value is rejected before anything is created', async () => {
  const before = await psNames();
  const r = await d.berth(['run', '-m', 'lots', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'/);
  assert.deepEqual(await psNames(), before);
});

test('env, env-file, workdir, user, hostname and entrypoint reach the process', async () => {
  const envFile = path.join(d.dir, 'env.list');
  fs.writeFileSync(envFile, '# comment\nFROM_FILE=yes\n\nB=file\n');
  const r = await d.berth([
    'run', '--rm', '-e', 'A=1', '--env-file', envFile, '-e', 'B=flag', '-w', '/made/here', '-u', 'nobody', '-h', 'box1',
    'busybox', 'sh', '-c', 'echo $A $FROM_FILE $B; pwd; id -u; id -g; hostname; cat /etc/hostname',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1 yes flag\n/made/here\n65534\n65534\nbox1\nbox1\n');
  const ep = await d.berth(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint']);
  assert.equal(ep.stdout, 'via entrypoint\n');
  const badUser = await d.berth(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'true']);
  assert.notEqual(badUser.code, 0);
  assert.match(badUser.stderr, /unable to find user nosuchuser: no matching entries in passwd file/);
});

test('the image CMD runs when no command is given, and /etc/hosts names the container', async () => {
  const r = await d.berth(['run', '--rm', '-i', 'busybox'], { input: 'echo from-image-cmd; grep -c localhost /etc/hosts\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^from-image-cmd\n[1-9]\n$/);
});

test('stdin is attached with -i and closed at EOF', async () => {
  const r = await d.berth(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'wc -l'], { input: 'a\nb\nc\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '3');
});

test('detached lifecycle: ps, logs, stop, start, restart, kill, wait, rm', async () => {
  const r = await d.berth(['run', '-d', '--name', 'life', 'busybox', 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await d.berth(['ps', '--filter', 'name=life', '--format', '{{.ID}} {{.Status}} {{.Names}}']);
  assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} Up (Less than a second|\\d+ seconds?) life\\n$`));
  await until(async () => (await d.berth(['logs', 'life'])).stdout === 'started\n');
  const stop = await d.berth(['stop', 'life']);
  assert.equal(stop.stdout, 'life\n');
  const ins = await d.berth(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'life']);
  assert.equal(ins.stdout, 'exited 0\n');
  assert.equal((await d.berth(['logs', 'life'])).stdout, 'started\nbye\n');
  const psA = await d.berth(['ps', '-a', '--filter', 'name=life', '--format', '{{.Status}}']);
  assert.match(psA.stdout, /^Exited \(0\) (Less than a second|\d+ seconds?) ago\n$/);
  assert.equal((await d.berth(['start', 'life'])).stdout, 'life\n');
  assert.equal((await d.berth(['inspect', '-f', '{{.State.Running}}', 'life'])).stdout, 'true\n');
  assert.equal((await d.berth(['restart', '-t', '1', id.slice(0, 8)])).code, 0);
  assert.equal((await d.berth(['kill', '-s', 'KILL', 'life'])).stdout, 'life\n');
  const w = await d.berth(['wait', 'life']);
  assert.equal(w.stdout, '137\n');
  const killStopped = await d.berth(['kill', 'life']);
  assert.equal(killStopped.code, 1);
  assert.match(killStopped.stderr, /is not running/);
  assert.equal((await d.berth(['rm', 'life'])).stdout, 'life\n');
  const gone = await d.berth(['inspect', 'life']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /No such object: life|No such container: life/);
});

test('removing a running container needs -f and leaves it running otherwise', async () => {
  await d.berth(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '300']);
  const r = await d.berth(['rm', 'busy']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot remove container "\/busy": container is running: stop the container before removing or force remove/);
  assert.equal((await d.berth(['inspect', '-f', '{{.State.Status}}', 'busy'])).stdout, 'running\n');
  const f = await d.berth(['rm', '-f', 'busy']);
  assert.equal(f.code, 0, f.stderr);
  assert.ok(!(await psNames()).includes('busy'));
});

test('exec runs in the container with its exit code, env, user and workdir', async () => {
  await d.berth(['run', '-d', '--name', 'ex', '-e', 'CTR=1', 'busybox', 'sleep', '300']);
  const a = await d.berth(['exec', 'ex', 'sh', '-c', 'echo $CTR $EXTRA; exit 5']);
  assert.equal(a.code, 5);
  assert.equal(a.stdout, '1\n');
  const b = await d.berth(['exec', '-e', 'EXTRA=2', '-u', 'nobody', '-w', '/tmp', 'ex', 'sh', '-c', 'echo $CTR $EXTRA; id -u; pwd']);
  assert.equal(b.stdout, '1 2\n65534\n/tmp\n');
  const i = await d.berth(['exec', '-i', 'ex', 'cat'], { input: 'piped\n' });
  assert.equal(i.stdout, 'piped\n');
  const det = await d.berth(['exec', '-d', 'ex', 'sh', '-c', 'echo detached > /tmp/mark']);
  assert.equal(det.code, 0, det.stderr);
  await until(async () => (await d.berth(['exec', 'ex', 'cat', '/tmp/mark'])).stdout === 'detached\n');
  // --privileged gives what the daemon itself holds, never more (no CAP_SYS_RESOURCE on these machines).
  const priv = await d.berth(['exec', '--privileged', 'ex', 'grep', 'CapEff', '/proc/self/status']);
  assert.equal(priv.code, 0, priv.stderr);
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!;
  assert.equal(priv.stdout, `CapEff:\t${bnd}\n`);
  const missing = await d.berth(['exec', 'ex', 'nosuchcmd']);
  assert.equal(missing.code, 127);
  await d.berth(['rm', '-f', 'ex']);
  const stopped = await d.berth(['exec', 'ex', 'true']);
  assert.notEqual(stopped.code, 0);
});

test('pause and unpause freeze the container', async () => {
  await d.berth(['run', '-d', '--name', 'frz', 'busybox', 'sleep', '300']);
  assert.equal((await d.berth(['pause', 'frz'])).stdout, 'frz\n');
  const st = await d.berth(['ps', '--filter', 'name=frz', '--format', '{{.Status}}']);
  assert.match(st.stdout, /\(Paused\)/);
  assert.equal((await d.berth(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'frz'])).stdout, 'paused true\n');
  const ex = await d.berth(['exec', 'frz', 'true']);
  assert.match(ex.stderr, /is paused, unpause the container before exec/);
  assert.equal((await d.berth(['unpause', 'frz'])).stdout, 'frz\n');
  assert.equal((await d.berth(['exec', 'frz', 'echo', 'thawed'])).stdout, 'thawed\n');
  await d.berth(['rm', '-f', 'frz']);
});

test('rename, top and logs options', async () => {
  await d.berth(['run', '-d', '--name', 'old', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line$i; done; sleep 300']);
  assert.equal((await d.berth(['rename', 'old', 'new'])).code, 0);
  assert.equal((await d.berth(['inspect', '-f', '{{.Name}}', 'new'])).stdout, '/new\n');
  const top = await d.berth(['top', 'new']);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /^UID\s+PID\s+PPID/);
  assert.match(top.stdout, /sleep 300/);
  await until(async () => (await d.berth(['logs', 'new'])).stdout.includes('line3'));
  assert.equal((await d.berth(['logs', '--tail', '1', 'new'])).stdout, 'line3\n');
  const ts = await d.berth(['logs', '-t', 'new']);
  assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z line1\n/);
  const future = await d.berth(['logs', '--since', '2999-01-01T00:00:00Z', 'new']);
  assert.equal(future.stdout, '');
  await d.berth(['rm', '-f', 'new']);
});

test('logs -f follows until the container exits', async () => {
  await d.berth(['run', '-d', '--name', 'follow', 'busybox', 'sh', '-c', 'echo one; sleep 1; echo two']);
  const r = await d.berth(['logs', '-f', 'follow'], { timeoutMs: 15_000 });
  assert.equal(r.stdout, 'one\ntwo\n');
  await d.berth(['rm', '-f', 'follow']);
});

test('ps filters, -q, -l, -n and --no-trunc', async () => {
  await d.berth(['run', '--name', 'f-exit3', '-l', 'team=a', 'busybox', 'sh', '-c', 'exit 3']);
  await d.berth(['run', '-d', '--name', 'f-run', '-l', 'team=b', 'busybox', 'sleep', '300']);
  const exited = await d.berth(['ps', '-a', '--filter', 'exited=3', '--format', '{{.Names}}']);
  assert.equal(exited.stdout, 'f-exit3\n');
  const label = await d.berth(['ps', '-a', '--filter', 'label=team=b', '--format', '{{.Names}}']);
  assert.equal(label.stdout, 'f-run\n');
  const running = await d.berth(['ps', '--filter', 'status=running', '--format', '{{.Names}}']);
  assert.ok(running.stdout.split('\n').includes('f-run'));
  assert.ok(!running.stdout.split('\n').includes('f-exit3'));
  const q = await d.berth(['ps', '-q', '--filter', 'name=f-run']);
  assert.match(q.stdout, /^[0-9a-f]{12}\n$/);
  const nt = await d.berth(['ps', '-q', '--no-trunc', '--filter', 'name=f-run']);
  assert.match(nt.stdout, /^[0-9a-f]{64}\n$/);
  const l = await d.berth(['ps', '-l', '--format', '{{.Names}}']);
  assert.equal(l.stdout, 'f-run\n');
  const n = await d.berth(['ps', '-n', '2', '--format', '{{.Names}}']);
  assert.equal(n.stdout, 'f-run\nf-exit3\n');
  const table = await d.berth(['ps', '--filter', 'name=f-run']);
  assert.match(table.stdout, /^CONTAINER ID   IMAGE     COMMAND       CREATED\s+STATUS\s+PORTS     NAMES\n/);
  assert.match(table.stdout, /busybox   "sleep 300"/);
  const bad = await d.berth(['ps', '--filter', 'colour=red']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid filter 'colour'/);
  await d.berth(['rm', '-f', 'f-exit3', 'f-run']);
});

test('resource limits land in the container\'s cgroup', async () => {
  const r = await d.berth([
    'run', '--rm', '-m', '64m', '--pids-limit', '50', '--cpus', '0.5', '--cpu-shares', '512', 'busybox', 'sh', '-c',
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '67108864\n50\n50000\n512\n');
});

test('network none has only loopback, host shares the host\'s interfaces, default has eth0 on the bridge', async () => {
  const none = await d.berth(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']);
  assert.equal(none.stdout, 'lo\n');
  const dflt = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'ls /sys/class/net; ip link show lo | grep -c UP']);
  assert.equal(dflt.stdout, 'eth0\nlo\n1\n');
  const host = await d.berth(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
  assert.deepEqual(host.stdout.split('\n').filter(Boolean).sort(), fs.readdirSync('/sys/class/net').sort());
});

test('the default security profile: seccomp, capabilities and masked paths', async () => {
  const r = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'unshare -U true 2>/dev/null && echo unshare-ok || echo unshare-blocked; cat /proc/kcore 2>&1 | head -c 0; grep CapEff /proc/self/status']);
  assert.match(r.stdout, /unshare-blocked/);
  assert.match(r.stdout, /CapEff:\s+00000000a80425fb/);
  const priv = await d.berth(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status']);
  assert.doesNotMatch(priv.stdout, /00000000a80425fb/);
  const drop = await d.berth(['run', '--rm', '--cap-drop', 'ALL', '--cap-add', 'CHOWN', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
  assert.match(drop.stdout, /CapEff:\s+0000000000000001/);
});

test('the API answers errors as dockerd does', async () => {
  const nf = await d.api('GET', '/v1.47/containers/nosuch/json');
  assert.equal(nf.status, 404);
  assert.deepEqual(nf.json(), { message: 'No such container: nosuch' });
  const bad = await d.api('POST', '/v1.47/containers/create', '{"Image": "busybox", ');
  assert.equal(bad.status, 400);
  assert.ok(nf.json().message.length > 0);
  const typ = await d.api('POST', '/v1.47/containers/create', { Image: 'busybox', HostConfig: { Memory: 'lots' } });
  assert.equal(typ.status, 400);
  assert.match(typ.json().message, /Memory/);
  const old = await d.api('GET', '/v1.12/version');
  assert.equal(old.status, 400);
  assert.match(old.json().message, /client version 1.12 is too old. Minimum supported API version is 1.24/);
  const ping = await d.api('GET', '/_ping');
  assert.equal(ping.body, 'OK');
  const v = await d.api('GET', '/version');
  assert.equal(v.json().ApiVersion, '1.47');
});

test('wait returns at once for a container that is not running, else at its exit; restart keeps logs', async () => {
  const c = await d.berth(['create', '--name', 'w1', 'busybox', 'sh', '-c', 'echo run; sleep 1; exit 4']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await d.berth(['wait', 'w1'])).stdout, '0\n', 'a created container is not running: wait returns at once, as dockerd');
  const s = await d.berth(['start', '-a', 'w1']);
  assert.equal(s.stdout, 'run\n');
  assert.equal(s.code, 4);
  await d.berth(['start', 'w1']);
  const w = await d.berth(['wait', 'w1']);
  assert.equal(w.stdout, '4\n');
  assert.equal((await d.berth(['logs', 'w1'])).stdout, 'run\nrun\n');
  await d.berth(['rm', 'w1']);
});
