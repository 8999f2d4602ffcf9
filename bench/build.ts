/**
 * Issue 6 figures, side by side in one run: a 10-step Dockerfile over a todo-app-like context
 * (busybox base, COPY of the package files, a RUN step, COPY of the sources): cold build
 * (--no-cache), fully cached rebuild, rebuild after one source file changed; berthd vs
 * dockerd's classic builder (DOCKER_BUILDKIT=0, when a dockerd answers at BENCH_DOCKERD_HOST,
 * default unix:///var/run/docker.sock; berthd's busybox is loaded into it when it has none).
 * The docker CLI drives both daemons; `berth build` (bin/berth) is timed too.
 *
 * Usage (root): [BENCH_DOCKERD_HOST=unix:///…] node dist/bench/build.js [repeats=5]
 */
import fs from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { median, timed } from './measure.js';
import { TestDaemon, DOCKER, REPO, run } from '../test/helpers/daemon.js';

const N = Number(process.argv[2] ?? 5);

const DOCKERFILE = `FROM busybox
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN mkdir -p node_modules && for i in $(seq 50); do echo "module.exports = $i" > node_modules/m$i.js; done
COPY src ./src
COPY spec ./spec
EXPOSE 3000
USER 1000
CMD ["node", "src/index.js"]
`;

function makeContext(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-build-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'todo', version: '1.0.0', dependencies: { express: '^4' } }, null, 2));
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: {} }, null, 2));
  fs.writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n');
  for (const sub of ['src', 'src/routes', 'src/persistence', 'src/static', 'spec']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(dir, `src/${i % 2 ? 'routes' : 'persistence'}/f${i}.js`), `module.exports = () => ${i};\n`.repeat(40));
  fs.writeFileSync(path.join(dir, 'src/static/app.js'), 'x'.repeat(200_000));
  fs.writeFileSync(path.join(dir, 'src/index.js'), 'console.log("todo")\n');
  for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(dir, `spec/t${i}.spec.js`), `test(${i})\n`);
  return dir;
}

/** The builder alone: the context tar posted to POST /build, no CLI in the way. */
function postBuild(socket: string, version: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'POST', path: `/v${version}/build?q=1&t=bench-build`, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 && !text.includes('"error"') ? resolve() : reject(new Error(text))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function apiCached(socket: string, version: string, ctx: string): Promise<number> {
  const body = execFileSync('/bin/tar', ['-cf', '-', '--exclude', 'node_modules', '-C', ctx, '.'], { maxBuffer: 1 << 28 });
  await postBuild(socket, version, body);
  const xs: number[] = [];
  for (let i = 0; i < N; i++) xs.push(await timed(() => postBuild(socket, version, body)));
  return median(xs);
}

/**
 * The docker CLI's own share of a cached build: the same `build -q` against a stand-in engine
 * that answers every request at once (ping, then the build's result as soon as the context has
 * arrived). No engine can take less than this through the docker CLI.
 */
async function instantEngine(ctx: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-instant-'));
  const sock = path.join(dir, 'engine.sock');
  const id = 'sha256:' + 'a'.repeat(64);
  const srv = http.createServer((req, res) => {
    const h = { 'Api-Version': '1.47', 'Content-Type': 'application/json', Ostype: 'linux', 'Builder-Version': '1' };
    if (req.url?.includes('/_ping')) {
      res.writeHead(200, h);
      return void res.end(req.method === 'HEAD' ? undefined : 'OK');
    }
    if (req.url?.includes('/build')) {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, h);
        res.end(JSON.stringify({ aux: { ID: id } }) + '\n');
      });
      return;
    }
    res.writeHead(404, h);
    res.end('{"message":"not here"}');
  });
  await new Promise<void>((resolve) => srv.listen(sock, resolve));
  try {
    const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_BUILDKIT: '0' };
    const xs: number[] = [];
    for (let i = 0; i < N; i++) {
      xs.push(
        await timed(async () => {
          const r = await run(DOCKER, ['build', '-q', '-t', 'bench-build', ctx], { env });
          if (r.code !== 0) throw new Error(`instant engine: ${r.stderr}`);
        }),
      );
    }
    return median(xs);
  } finally {
    srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

type Cli = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

async function measure(name: string, cli: Cli, ctx: string): Promise<Record<string, number>> {
  const build = async (extra: string[]) => {
    const r = await cli(['build', '-q', ...extra, '-t', 'bench-build', ctx]);
    if (r.code !== 0) throw new Error(`${name}: ${r.stderr}`);
  };
  const cold: number[] = [];
  const cached: number[] = [];
  const changed: number[] = [];
  await build([]);
  for (let i = 0; i < N; i++) {
    cold.push(await timed(() => build(['--no-cache'])));
    cached.push(await timed(() => build([])));
    fs.writeFileSync(path.join(ctx, 'src/index.js'), `console.log("todo ${name} ${i} ${Date.now()}")\n`);
    changed.push(await timed(() => build([])));
  }
  // the client's own share: start-up, ping, one small request (what no engine can take away)
  const floor: number[] = [];
  for (let i = 0; i < N; i++) floor.push(await timed(() => cli(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])));
  const res = { cold: median(cold), cached: median(cached), changed: median(changed), floor: median(floor) };
  console.log(`  ${name.padEnd(20)} cold ${res.cold.toFixed(0).padStart(6)} ms   cached ${res.cached.toFixed(0).padStart(6)} ms   one file changed ${res.changed.toFixed(0).padStart(6)} ms   (client floor: image inspect ${res.floor.toFixed(0)} ms)`);
  return res;
}

async function main(): Promise<void> {
  const d = new TestDaemon();
  const ctx = makeContext();
  try {
    await d.start(['--log-level', 'error']);
    await d.makeBusybox();
    console.log(`build (10 steps), median of ${N}, ${new Date().toISOString()}`);
    const b = await measure('berthd (docker CLI)', (a) => d.docker(a), ctx);
    // bin/berth as users run it (it runs dist/, this tree when the bench runs from dist/)
    await measure('berthd (bin/berth)', (a) => run(path.join(REPO, 'bin/berth'), a, { env: d.env }), ctx);
    const bApi = await apiCached(d.socket, '1.47', ctx);
    const host = process.env.BENCH_DOCKERD_HOST ?? 'unix:///var/run/docker.sock';
    const sock = host.replace(/^unix:\/\//, '');
    const env = { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0' };
    if (fs.existsSync(sock) && (await run(DOCKER, ['image', 'inspect', 'busybox'], { env })).code !== 0) {
      // the same busybox on both sides
      const saved = execFileSync(DOCKER, ['save', 'busybox'], { env: d.env, maxBuffer: 1 << 28 });
      execFileSync(DOCKER, ['load', '-q'], { env, input: saved });
    }
    if (fs.existsSync(sock) && (await run(DOCKER, ['image', 'inspect', 'busybox'], { env })).code === 0) {
      const k = await measure('dockerd classic', (a) => run(DOCKER, a, { env, timeoutMs: 300_000 }), ctx);
      const kApi = await apiCached(sock, '1.41', ctx);
      console.log(`  cached rebuild, POST /build only (no CLI): berthd ${bApi.toFixed(0)} ms, dockerd ${kApi.toFixed(0)} ms, ratio ${(bApi / kApi).toFixed(2)}x`);
      console.log(`  cached rebuild minus the client floor: berthd ${(b.cached - b.floor).toFixed(0)} ms, dockerd ${(k.cached - k.floor).toFixed(0)} ms, ratio ${((b.cached - b.floor) / (k.cached - k.floor)).toFixed(2)}x`);
      console.log(`  ratio berthd/dockerd: cold ${(b.cold / k.cold).toFixed(2)}x (target <= 1)   cached ${(b.cached / k.cached).toFixed(2)}x (target <= 0.2)   one file changed ${(b.changed / k.changed).toFixed(2)}x`);
      const instant = await instantEngine(ctx);
      console.log(`  docker CLI against an engine that answers at once: ${instant.toFixed(0)} ms = ${(instant / k.cached).toFixed(2)}x dockerd's cached rebuild (the lowest ratio any engine can reach through this CLI)`);
      await run(DOCKER, ['rmi', 'bench-build'], { env });
    } else console.log(`  cached rebuild, POST /build only: berthd ${bApi.toFixed(0)} ms (no dockerd with a busybox image: skipped)`);
  } finally {
    await d.cleanup();
    fs.rmSync(ctx, { recursive: true, force: true });
  }
}

void main();
