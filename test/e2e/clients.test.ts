import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { TestDaemon, BERTH, DOCKER, until } from '../helpers/daemon.js';
import { inPty } from '../helpers/pty.js';

// The real docker CLI and dockerode against berthd.
const d = new TestDaemon();

before(async () => {
  await d.start();
  await d.makeBusybox();
});

after(async () => {
  await d.cleanup();
});

test('docker CLI: version, info, run, ps, logs, exec, inspect, stop, rm', async () => {
  const v = await d.docker(['version', '--format', '{{.Server.APIVersion}}']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, '1.47\n');
  const info = await d.docker(['info', '--format', '{{.Driver}} {{.DockerRootDir}}']);
  assert.equal(info.stdout, `overlay2 ${d.dataRoot}\n`);
  const run = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo hi from docker; exit 2']);
  assert.equal(run.stdout, 'hi from docker\n');
  assert.equal(run.code, 2);
  const det = await d.docker(['run', '-d', '--name', 'dk', 'busybox', 'sh', '-c', 'echo logged; sleep 300']);
  assert.equal(det.code, 0, det.stderr);
  const ps = await d.docker(['ps', '--format', '{{.Names}} {{.Image}} {{.Command}}']);
  // dockerd quotes args with spaces in single quotes; the CLI truncates to 20 characters.
  assert.equal(ps.stdout, `dk busybox "sh -c 'echo logged;…"\n`);
  await until(async () => (await d.docker(['logs', 'dk'])).stdout === 'logged\n');
  const ex = await d.docker(['exec', 'dk', 'sh', '-c', 'echo in-exec; exit 3']);
  assert.equal(ex.stdout, 'in-exec\n');
  assert.equal(ex.code, 3);
  const exi = await d.docker(['exec', '-i', 'dk', 'cat'], { input: 'through docker\n' });
  assert.equal(exi.stdout, 'through docker\n');
  const ins = await d.docker(['inspect', '-f', '{{.State.Status}} {{.Config.Image}} {{.HostConfig.NetworkMode}}', 'dk']);
  assert.equal(ins.stdout, 'running busybox bridge\n');
  assert.equal((await d.docker(['stop', '-t', '1', 'dk'])).stdout, 'dk\n');
  assert.equal((await d.docker(['rm', 'dk'])).stdout, 'dk\n');
  const nf = await d.docker(['inspect', 'dk']);
  assert.equal(nf.code, 1);
  assert.match(nf.stderr, /No such object: dk/);
});

test('docker CLI: errors keep docker\'s text and exit codes', async () => {
  const nf = await d.docker(['start', 'nosuch']);
  assert.equal(nf.code, 1);
  assert.match(nf.stderr, /Error response from daemon: No such container: nosuch/);
  const missing = await d.docker(['run', '--rm', 'busybox', 'nosuchcmd']);
  assert.equal(missing.code, 127, missing.stderr);
  const img = await d.docker(['create', 'busybox:nosuchtag']);
  assert.equal(img.code, 1);
  assert.match(img.stderr, /^Unable to find image 'busybox:nosuchtag' locally\n/);
});

test('docker CLI: images, tag, history, save | load, rmi', async () => {
  const ls = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.match(ls.stdout, /^busybox:latest$/m);
  assert.equal((await d.docker(['tag', 'busybox', 'example.com/team/box:1'])).code, 0);
  const hist = await d.docker(['history', '--format', '{{.CreatedBy}}', 'example.com/team/box:1']);
  assert.equal(hist.code, 0, hist.stderr);
  const rmi = await d.docker(['rmi', 'example.com/team/box:1']);
  assert.equal(rmi.stdout, 'Untagged: example.com/team/box:1\n', rmi.stderr);
});

test('docker CLI: run -it gives a working interactive shell in a real terminal', async () => {
  const r = await inPty(`${DOCKER} run -it --rm busybox sh`, ['tty\n', 'echo "in $((6*7))"\n', 'exit 7\n'], { DOCKER_HOST: d.host });
  assert.match(r.out, /\/dev\/pts\/0/);
  assert.match(r.out, /in 42/);
  assert.equal(r.code, 7);
});

test('berth run -it gives a working interactive shell in a real terminal', async () => {
  const r = await inPty(`${process.execPath} ${BERTH} run -it --rm busybox sh`, ['tty\n', 'echo "cols $(stty size)"\n', 'exit 3\n'], { BERTH_HOST: d.host });
  assert.match(r.out, /\/dev\/pts\/0/);
  assert.match(r.out, /cols 40 100/);
  assert.equal(r.code, 3);
});

test('exec -it gets a terminal of the client\'s size, from the docker CLI and from berth', async () => {
  await d.berth(['run', '-d', '--name', 'tty-exec', 'busybox', 'sleep', '300']);
  const dk = await inPty(`${DOCKER} exec -it tty-exec sh`, ['stty size\n', 'exit 4\n'], { DOCKER_HOST: d.host });
  assert.match(dk.out, /40 100/);
  assert.equal(dk.code, 4);
  const bt = await inPty(`${process.execPath} ${BERTH} exec -it tty-exec sh`, ['stty size\n', 'exit 5\n'], { BERTH_HOST: d.host });
  assert.match(bt.out, /40 100/);
  assert.equal(bt.code, 5);
  await d.berth(['rm', '-f', 'tty-exec']);
});

test('dockerode: create, start, attach, wait, logs, remove', async () => {
  const docker = new Docker({ socketPath: d.socket });
  const info = await docker.version();
  assert.equal(info.ApiVersion, '1.47');
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 6'], name: 'ode' });
  const stream = await c.attach({ stream: true, stdout: true, stderr: true });
  const out = new PassThrough();
  const err = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  out.on('data', (b: Buffer) => outChunks.push(b));
  err.on('data', (b: Buffer) => errChunks.push(b));
  docker.modem.demuxStream(stream, out, err);
  await c.start();
  const w = (await c.wait()) as { StatusCode: number };
  assert.equal(w.StatusCode, 6);
  await until(() => Buffer.concat(outChunks).toString() === 'out\n' && Buffer.concat(errChunks).toString() === 'err\n', 5000);
  const logs = (await c.logs({ stdout: true, stderr: true })) as Buffer;
  assert.ok(logs.includes(Buffer.from('out\n')));
  const list = await docker.listContainers({ all: true, filters: { name: ['ode'] } });
  assert.equal(list.length, 1);
  assert.equal(list[0]!.State, 'exited');
  await c.remove();
  await assert.rejects(c.inspect(), /no such container/i);
});

/** Runs a command under a pseudo-terminal (util-linux `script`), typing the given lines. */
