import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/app.js';
import { muxFrame } from '../../src/cli/client.js';
import { startErrorStatus } from '../../src/cli/createcontainer.js';

interface Seen { method: string; url: string; body: string }

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

async function fakeDaemon(handler: Handler, onUpgrade?: (req: http.IncomingMessage, socket: import('node:stream').Duplex) => void) {
  const sock = join(mkdtempSync(join(tmpdir(), 'berth-fake-')), 'd.sock');
  const seen: Seen[] = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.setHeader('Api-Version', '1.45');
      if (req.url === '/_ping') return res.end('OK');
      handler(req, body, res);
    });
  });
  srv.on('upgrade', (req, socket) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', body: 'UPGRADE' });
    onUpgrade?.(req, socket);
  });
  await new Promise<void>((r) => srv.listen(sock, r));
  return { host: `unix://${sock}`, seen, close: () => srv.close() };
}

async function cli(host: string, argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const stdin = new PassThrough();
  stdin.end();
  const code = await runCli(['-H', host, ...argv], { stdout, stderr, stdin, env: {} });
  return { code, out, err };
}

function json(res: http.ServerResponse, status: number, obj: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

const upgradeWith = (frames: Buffer[]) => (_req: http.IncomingMessage, socket: import('node:stream').Duplex) => {
  socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
  for (const f of frames) socket.write(f);
  setTimeout(() => socket.end(), 50);
};

test('run attaches, waits, starts, demuxes output and exits with the container status', async () => {
  const d = await fakeDaemon((req, _b, res) => {
    if (req.url?.includes('/containers/create')) return json(res, 201, { Id: 'abc123', Warnings: [] });
    if (req.url?.includes('/wait')) return setTimeout(() => json(res, 200, { StatusCode: 3 }), 100);
    if (req.url?.includes('/start')) return res.writeHead(204).end();
    json(res, 404, { message: 'unexpected' });
  }, upgradeWith([muxFrame(1, 'out\n'), muxFrame(2, 'err\n')]));
  try {
    const r = await cli(d.host, ['run', '--rm', '--name', 'x', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 3);
    assert.equal(r.out, 'out\n');
    assert.equal(r.err, 'err\n');
    const urls = d.seen.filter((s) => s.url !== '/_ping').map((s) => `${s.method} ${s.url}`);
    assert.deepEqual(urls, [
      'POST /v1.45/containers/create?name=x',
      'POST /v1.45/containers/abc123/attach?stream=1&stdout=1&stderr=1',
      'POST /v1.45/containers/abc123/wait?condition=removed',
      'POST /v1.45/containers/abc123/start',
    ]);
    const body = JSON.parse(d.seen.find((s) => s.url.includes('/create'))!.body);
    assert.deepEqual(body.Cmd, ['echo', 'hi']);
    assert.equal(body.HostConfig.AutoRemove, true);
  } finally {
    d.close();
  }
});

test('run -d prints the ID; a missing image is pulled first', async () => {
  let creates = 0;
  const d = await fakeDaemon((req, _b, res) => {
    if (req.url?.includes('/containers/create')) {
      creates++;
      if (creates === 1) return json(res, 404, { message: 'No such image: busybox:latest' });
      return json(res, 201, { Id: 'abc123', Warnings: [] });
    }
    if (req.url?.includes('/images/create')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"Pulling from library/busybox","id":"latest"}\n');
      return res.end('{"status":"Status: Downloaded newer image for busybox:latest"}\n');
    }
    if (req.url?.includes('/start')) return res.writeHead(204).end();
    json(res, 404, { message: 'unexpected' });
  });
  try {
    const r = await cli(d.host, ['run', '-d', 'busybox']);
    assert.equal(r.code, 0);
    assert.equal(r.out, 'abc123\n');
    assert.equal(
      r.err,
      "Unable to find image 'busybox:latest' locally\nlatest: Pulling from library/busybox\nStatus: Downloaded newer image for busybox:latest\n",
    );
    assert.ok(d.seen.some((s) => s.url === '/v1.45/images/create?fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest'));
  } finally {
    d.close();
  }
});

test('run maps the runtime start error to 127 and prints docker\'s text', async () => {
  const msg = 'failed to create task: exec: "nope": executable file not found in $PATH: unknown';
  const d = await fakeDaemon((req, _b, res) => {
    if (req.url?.includes('/containers/create')) return json(res, 201, { Id: 'abc123', Warnings: [] });
    if (req.url?.includes('/wait')) return json(res, 200, { StatusCode: 0 });
    if (req.url?.includes('/start')) return json(res, 400, { message: msg });
    json(res, 404, { message: 'unexpected' });
  }, upgradeWith([]));
  try {
    const r = await cli(d.host, ['run', 'busybox', 'nope']);
    assert.equal(r.code, 127);
    assert.equal(r.err, `berth: Error response from daemon: ${msg}\n\nRun 'berth run --help' for more information\n`);
  } finally {
    d.close();
  }
});

test('exit code mapping follows docker-cli', () => {
  assert.equal(startErrorStatus('Error response from daemon: exec: "x": executable file not found in $PATH'), 127);
  assert.equal(startErrorStatus('open /nope: no such file or directory'), 127);
  assert.equal(startErrorStatus('exec /etc: permission denied'), 126);
  assert.equal(startErrorStatus('cgroup setup failed'), 125);
});

test('batch commands report every failure and exit 1', async () => {
  const d = await fakeDaemon((req, _b, res) => {
    if (req.url?.includes('/containers/good')) return res.writeHead(204).end();
    const name = req.url!.split('/')[3].split('?')[0];
    json(res, 404, { message: `No such container: ${name}` });
  });
  try {
    const r = await cli(d.host, ['rm', '-f', 'bad1', 'good', 'bad2']);
    assert.equal(r.code, 1);
    assert.equal(r.out, 'good\n');
    assert.equal(r.err, 'Error response from daemon: No such container: bad1\nError response from daemon: No such container: bad2\n');
    assert.ok(d.seen.some((s) => s.method === 'DELETE' && s.url === '/v1.45/containers/good?force=1'));
  } finally {
    d.close();
  }
});

test('exec runs hijacked and exits with the exec ExitCode', async () => {
  const d = await fakeDaemon((req, body, res) => {
    if (req.url?.endsWith('/containers/c1/exec')) {
      assert.deepEqual(JSON.parse(body).Cmd, ['ls', '-l']);
      return json(res, 201, { Id: 'e1' });
    }
    if (req.url?.endsWith('/exec/e1/json')) return json(res, 200, { ExitCode: 42 });
    json(res, 404, { message: 'unexpected' });
  }, upgradeWith([muxFrame(1, 'listing\n')]));
  try {
    const r = await cli(d.host, ['exec', 'c1', 'ls', '-l']);
    assert.equal(r.out, 'listing\n');
    assert.equal(r.code, 42);
  } finally {
    d.close();
  }
});

test('logs of a TTY container are not demultiplexed', async () => {
  const d = await fakeDaemon((req, _b, res) => {
    if (req.url?.endsWith('/containers/t/json')) return json(res, 200, { Id: 't', Config: { Tty: true } });
    if (req.url?.includes('/containers/t/logs')) return res.end('raw line\n');
    json(res, 404, { message: 'unexpected' });
  });
  try {
    const r = await cli(d.host, ['logs', '-n', '5', 't']);
    assert.equal(r.out, 'raw line\n');
    assert.ok(d.seen.some((s) => s.url === '/v1.45/containers/t/logs?stdout=1&stderr=1&tail=5'));
  } finally {
    d.close();
  }
});

test('no daemon: one line naming the socket, exit 1', async () => {
  const r = await cli('unix:///nonexistent/berth.sock', ['ps']);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running? Start it with: berthd\n');
});

test('unknown commands', async () => {
  const r = await cli('unix:///nonexistent', ['frob']);
  assert.equal(r.code, 1);
  assert.equal(r.err, "berth: unknown command: berth frob\n\nRun 'berth --help' for more information\n");
  const c = await cli('unix:///nonexistent', ['container', 'frob']);
  assert.equal(c.err, "berth: unknown command: berth container frob\n\nUsage:  berth container\n\nRun 'berth container --help' for more information\n");
});
