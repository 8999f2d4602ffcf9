import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { TestDaemon, BERTH, until, type RunResult } from '../helpers/daemon.js';

// berth compose: secrets and configs that are not files (copied into the container), and the
// flags of up/run/exec and compose's global flags beyond the basics in compose.test.ts.
const d = new TestDaemon();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-'));
const projects: string[] = [];

before(async () => {
  await d.start();
  await d.makeBusybox();
});

after(async () => {
  for (const p of projects) await d.berth(['compose', '-p', path.basename(p), '--project-directory', p, 'down', '-v', '-t', '0'], { timeoutMs: 60_000 }).catch(() => undefined);
  await d.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

function makeProject(name: string, files: Record<string, string>): string {
  const dir = path.join(root, name);
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  projects.push(dir);
  return dir;
}

function compose(dir: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<RunResult> {
  return d.berth(['compose', '-f', path.join(dir, 'compose.yaml'), ...args], { timeoutMs, env });
}

async function ok(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const r = await compose(dir, args, env);
  assert.equal(r.code, 0, `compose ${args.join(' ')} failed: ${r.stderr}\n${r.stdout}\n${d.log.slice(-2000)}`);
  return r;
}

const inspect = async (name: string): Promise<any> => {
  const r = await d.api('GET', `/containers/${name}/json`);
  return r.status === 200 ? r.json() : undefined;
};

test('secrets from environment, configs from content, environment and file: paths, content, uid/gid/mode', async () => {
  const dir = makeProject('secrets', {
    'app.conf': 'from-file\n',
    '.env': 'DB_PASSWORD=dotenv-pw\n',
    'compose.yaml': `
services:
  app:
    image: busybox
    command: sh -c 'for f in /run/secrets/db_password /run/secrets/token /conf_inline /etc/app/env.conf /app.conf; do echo "$$f $$(stat -c "%u:%g %a" $$f) $$(cat $$f)"; done'
    secrets:
      - db_password
      - source: api_token
        target: token
        uid: "1000"
        gid: "1001"
        mode: 0400
    configs:
      - conf_inline
      - source: conf_env
        target: /etc/app/env.conf
        mode: 0440
      - app.conf
secrets:
  db_password:
    environment: DB_PASSWORD
  api_token:
    environment: API_TOKEN
configs:
  conf_inline:
    content: |
      inline for $\{DB_PASSWORD}
  conf_env:
    environment: CONF_VALUE
  app.conf:
    file: ./app.conf
`,
  });
  const r = await ok(dir, ['up', '--no-log-prefix', '--menu'], { API_TOKEN: 'tok-123', CONF_VALUE: 'conf-from-env' });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('/'));
  assert.deepEqual(lines, [
    '/run/secrets/db_password 0:0 444 dotenv-pw',
    '/run/secrets/token 1000:1001 400 tok-123',
    '/conf_inline 0:0 444 inline for dotenv-pw',
    '/etc/app/env.conf 0:0 440 conf-from-env',
    '/app.conf 0:0 644 from-file',
  ]);
  // a variable the secret needs is missing: one line, nothing created
  await ok(dir, ['down']);
  const missing = await compose(dir, ['up', '-d'], { CONF_VALUE: 'x' });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /environment variable "API_TOKEN" required by secret "api_token" is not set/);
  await ok(dir, ['down']);

  // a one-off `run` container gets them too
  const run = await ok(dir, ['run', '--rm', '-T', 'app', 'cat', '/run/secrets/token', '/conf_inline'], { API_TOKEN: 'run-tok', CONF_VALUE: 'x' });
  assert.equal(run.stdout, 'run-tokinline for dotenv-pw\n');
});

test('up --timestamps prefixes each line with the time it arrived; --ansi never and --progress json/quiet', async () => {
  const dir = makeProject('stamps', { 'compose.yaml': 'services:\n  say:\n    image: busybox\n    command: echo hello\n  hush:\n    image: busybox\n    command: echo hidden\n    attach: false\n' });
  const before = Date.now();
  const r = await ok(dir, ['--ansi', 'never', 'up', '--timestamps'], {});
  const m = /^say-1  \| (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) hello$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  const t = Date.parse(m[1].replace(/(\.\d{3})\d{6}Z$/, '$1Z'));
  assert.ok(t >= before - 1000 && t <= Date.now() + 1000, m[1]);
  assert.doesNotMatch(r.stdout + r.stderr, /\x1b\[/);
  assert.doesNotMatch(r.stdout, /hidden/, 'a service with attach: false is not followed');
  assert.match(r.stderr, /Container stamps-hush-1 {2}Started/);
  const j = await ok(dir, ['--progress', 'json', 'up', '-d', '--force-recreate']);
  const events = j.stderr.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(events.some((e) => e.id === 'Container stamps-say-1' && e.text === 'Started'), j.stderr);
  // --attach names it: followed after all
  assert.match((await ok(dir, ['up', '--attach', 'hush', '--no-log-prefix'])).stdout, /^hidden$/m);
  const q = await ok(dir, ['--progress', 'quiet', 'down']);
  assert.equal(q.stderr, '');
  const bad = await compose(dir, ['--progress', 'fancy', 'ps']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unsupported --progress value "fancy"/);
});

test('up -V renews anonymous volumes; without it a recreated container keeps their data', async () => {
  const dir = makeProject('anon', {
    'compose.yaml': `
services:
  db:
    image: busybox
    command: sh -c 'test -f /data/seen || cat /proc/sys/kernel/random/uuid > /data/seen; exec sleep 300'
    volumes: ["/data"]
    stop_signal: SIGKILL
`,
  });
  const seen = async () => (await ok(dir, ['exec', '-T', 'db', 'cat', '/data/seen'])).stdout;
  await ok(dir, ['up', '-d']);
  const first = await seen();
  await ok(dir, ['up', '-d', '--force-recreate']);
  assert.equal(await seen(), first, 'data carried over to the recreated container');
  const oldVol = (await inspect('anon-db-1')).Mounts.find((m: any) => m.Destination === '/data').Name;
  const r = await ok(dir, ['up', '-d', '--force-recreate', '--renew-anon-volumes']);
  assert.match(r.stderr, /Container anon-db-1 {2}Recreated/);
  assert.notEqual(await seen(), first, 'a fresh anonymous volume');
  assert.equal((await d.api('GET', `/volumes/${oldVol}`)).status, 404, 'the old anonymous volume is gone');
  await ok(dir, ['up', '-d', '-V', '--force-recreate']);
  await ok(dir, ['down', '-v', '-t', '0']);
});

test('--always-recreate-deps recreates the dependencies of the named services; --force-recreate only the named ones', async () => {
  const dir = makeProject('deps', {
    'compose.yaml': `
services:
  web:
    image: busybox
    command: sleep 300
    depends_on: [db]
    stop_signal: SIGKILL
  db:
    image: busybox
    command: sleep 300
    stop_signal: SIGKILL
`,
  });
  await ok(dir, ['up', '-d']);
  const id = async (n: string) => (await inspect(`deps-${n}-1`)).Id;
  const [web0, db0] = [await id('web'), await id('db')];
  await ok(dir, ['up', '-d', '--force-recreate', 'web']);
  const [web1, db1] = [await id('web'), await id('db')];
  assert.notEqual(web1, web0);
  assert.equal(db1, db0, 'a dependency is not forced by --force-recreate');
  const r = await ok(dir, ['up', '-d', '--always-recreate-deps', 'web']);
  assert.match(r.stderr, /Container deps-db-1 {2}Recreated/);
  assert.notEqual(await id('db'), db1);
  assert.equal(await id('web'), web1, 'web itself did not change');
  const bad = await compose(dir, ['up', '-d', '--always-recreate-deps', '--no-recreate']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--always-recreate-deps and --no-recreate are incompatible/);
  await ok(dir, ['down', '-t', '0']);
});

test('run: --cap-add/--cap-drop, --env-from-file, -q, -d --rm; exec -i/-t; --compatibility, --parallel, --dry-run', async () => {
  const dir = makeProject('runflags', {
    'vars.env': 'FROM_FILE=yes\n# comment\nQUOTED="a b"\n',
    'compose.yaml': 'services:\n  app:\n    image: busybox\n    command: sleep 300\n    stop_signal: SIGKILL\n',
  });
  const caps = await ok(dir, ['run', '--rm', '-T', '--cap-drop', 'CHOWN', '--cap-add', 'NET_ADMIN', 'app', 'grep', 'CapEff', '/proc/self/status']);
  const eff = BigInt('0x' + caps.stdout.trim().split(/\s+/)[1]);
  assert.equal(eff & 1n, 0n, 'CAP_CHOWN dropped');
  assert.equal((eff >> 12n) & 1n, 1n, 'CAP_NET_ADMIN added');
  const env = await ok(dir, ['run', '--rm', '-T', '--env-from-file', path.join(dir, 'vars.env'), '-e', 'QUOTED=cli', 'app', 'sh', '-c', 'echo $FROM_FILE $QUOTED']);
  assert.equal(env.stdout, 'yes cli\n');
  const missing = await compose(dir, ['run', '--rm', '--env-from-file', path.join(dir, 'nope.env'), 'app', 'true']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /couldn't find env file: .*nope\.env/);
  const q = await ok(dir, ['run', '-q', '-d', '--rm', '--name', 'runflags-quick', 'app', 'true']);
  assert.equal(q.stdout, '');
  for (let i = 0; i < 50 && (await inspect('runflags-quick')); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await inspect('runflags-quick'), undefined, '-d --rm: removed when it exits');

  await ok(dir, ['run', '-d', '--use-aliases', '--name', 'runflags-alias', 'app', 'sleep', '30']);
  await ok(dir, ['run', '-d', '--name', 'runflags-noalias', 'app', 'sleep', '30']);
  assert.deepEqual((await inspect('runflags-alias')).NetworkSettings.Networks.runflags_default.Aliases, ['runflags-alias', 'app']);
  assert.deepEqual((await inspect('runflags-noalias')).NetworkSettings.Networks.runflags_default.Aliases, ['runflags-noalias']);
  await d.berth(['rm', '-f', 'runflags-alias', 'runflags-noalias']);

  await ok(dir, ['--compatibility', 'up', '-d']);
  assert.ok(await inspect('runflags_app_1'), 'compatibility mode names with underscores');
  const ex = await ok(dir, ['exec', '-T', '-i=false', '--tty=false', 'app', 'echo', 'in'], { COMPOSE_COMPATIBILITY: 'true' });
  assert.equal(ex.stdout, 'in\n');
  await ok(dir, ['--compatibility', 'down', '-t', '0']);

  const dry = await compose(dir, ['--dry-run', 'up', '-d']);
  assert.equal(dry.code, 1);
  assert.equal(dry.stderr, '--dry-run is not supported by berth compose up\n');
  assert.equal((await ok(dir, ['--dry-run', 'ps', '-q'])).stdout, '', 'read-only commands run as they are');

  const scaled = makeProject('parallel', {
    'compose.yaml': 'services:\n  a: { image: busybox, command: sleep 300, stop_signal: SIGKILL }\n  b: { image: busybox, command: sleep 300, stop_signal: SIGKILL }\n  c: { image: busybox, command: sleep 300, stop_signal: SIGKILL }\n',
  });
  const par = await ok(scaled, ['--parallel', '1', 'up', '-d']);
  // one at a time: each container is created before the next one starts being created
  const order = par.stderr.split('\n').filter((l) => /Container .* (Creating|Created)$/.test(l)).map((l) => l.trim().split(/\s+/).pop());
  assert.deepEqual(order, ['Creating', 'Created', 'Creating', 'Created', 'Creating', 'Created'], par.stderr);
  await ok(scaled, ['down', '-t', '0']);
});

test('config --hash/--environment/--variables/--no-consistency, volumes, pull --policy, build flags berth lacks', async () => {
  const dir = makeProject('cfgflags', {
    '.env': 'TAG=1.0\n',
    'compose.yaml': `
services:
  web:
    image: "busybox:$\{TAG:-latest}"
    environment: { MODE: "$\{MODE:?set MODE}", EXTRA: "$\{EXTRA:+on}", COST: "$$5" }
    volumes: [data:/data]
  db:
    image: busybox
    command: sleep 300
    stop_signal: SIGKILL
    volumes: [logs:/logs]
volumes:
  data: {}
  logs: {}
  spare: {}
`,
  });
  const env = { MODE: 'prod' };
  const hash = await ok(dir, ['config', '--hash', '*'], env);
  assert.match(hash.stdout, /^db [0-9a-f]{64}\nweb [0-9a-f]{64}\n$/);
  assert.match((await ok(dir, ['config', '--hash', 'web'], env)).stdout, /^web [0-9a-f]{64}\n$/);
  const envOut = (await ok(dir, ['config', '--environment'], env)).stdout;
  assert.match(envOut, /^MODE=prod$/m);
  assert.match(envOut, /^TAG=1\.0$/m);
  const vars = (await ok(dir, ['config', '--variables'], env)).stdout.split('\n');
  assert.match(vars[0], /^NAME\s+REQUIRED\s+DEFAULT VALUE\s+ALTERNATE VALUE$/);
  // columns by the header's positions: name, required, default, alternate
  const at = ['REQUIRED', 'DEFAULT VALUE', 'ALTERNATE VALUE'].map((h) => vars[0].indexOf(h));
  const cols = (l: string) => [l.slice(0, at[0]), l.slice(at[0], at[1]), l.slice(at[1], at[2]), l.slice(at[2])].map((c) => c.trim());
  assert.deepEqual(vars.slice(1).filter(Boolean).map(cols), [['EXTRA', 'false', '', 'on'], ['MODE', 'true', '', ''], ['TAG', 'false', 'latest', '']]);
  const broken = makeProject('cfgbroken', { 'compose.yaml': 'services:\n  a:\n    image: busybox\n    depends_on: [nope]\n' });
  assert.equal((await compose(broken, ['config', '-q'])).code, 1);
  assert.equal((await compose(broken, ['config', '-q', '--no-consistency'])).code, 0);
  const nn = await compose(dir, ['config', '--no-normalize'], env);
  assert.equal(nn.code, 1);
  assert.equal(nn.stderr, '--no-normalize is not supported by berth compose config\n');

  await d.berth(['tag', 'busybox', 'busybox:1.0']);
  await ok(dir, ['up', '-d', 'db'], env);
  await ok(dir, ['create', 'web'], env);
  const vols = await ok(dir, ['volumes'], env);
  assert.match(vols.stdout, /^DRIVER\s+VOLUME NAME\nlocal\s+cfgflags_data\nlocal\s+cfgflags_logs\n$/);
  assert.equal((await ok(dir, ['volumes', '-q', 'db'], env)).stdout, 'cfgflags_logs\n');
  // a volume no service uses is only created with --all-resources
  await ok(dir, ['--all-resources', 'up', '-d', 'db'], env);
  assert.equal((await ok(dir, ['volumes', '-q'], env)).stdout, 'cfgflags_data\ncfgflags_logs\ncfgflags_spare\n');
  // every image is there: --policy missing pulls nothing (no registry is reachable)
  const pull = await ok(dir, ['pull', '--policy', 'missing'], env);
  assert.doesNotMatch(pull.stderr, /Pulling/);
  assert.match((await compose(dir, ['pull', '--policy', 'sometimes'], env)).stderr, /invalid pull policy "sometimes"/);
  const builder = await compose(dir, ['build', '--builder', 'remote'], env);
  assert.equal(builder.code, 1);
  assert.match(builder.stderr, /no builder "remote" found/);
  assert.equal((await compose(dir, ['build', '--sbom', 'true'], env)).stderr, '--sbom is not supported by berth compose build\n');
  await ok(dir, ['down', '-v', '-t', '0'], env);
});

test('stop_grace_period bounds how long stop waits for a process that ignores SIGTERM; -t overrides it', async () => {
  const dir = makeProject('grace', {
    'compose.yaml': `
services:
  stubborn:
    image: busybox
    command: sh -c 'trap "" TERM; echo ready; while true; do sleep 0.1; done'
    stop_grace_period: 2s
`,
  });
  await ok(dir, ['up', '-d']);
  assert.equal((await inspect('grace-stubborn-1')).Config.StopTimeout, 2);
  let t0 = Date.now();
  await ok(dir, ['stop']);
  const took = Date.now() - t0;
  assert.ok(took >= 1800 && took < 8000, `stop took ${took} ms`);
  assert.equal((await inspect('grace-stubborn-1')).State.ExitCode, 137);
  await ok(dir, ['start']);
  t0 = Date.now();
  await ok(dir, ['stop', '-t', '0']);
  assert.ok(Date.now() - t0 < 1800, 'stop -t 0 does not wait');
  await ok(dir, ['down']);
});

test('up --watch: the develop.watch rules run while up is attached; initial_sync', async () => {
  const dir = makeProject('upwatch', {
    'src/hello.txt': 'v1\n',
    'seed/sub/a.txt': 'seeded\n',
    'compose.yaml': `
services:
  app:
    image: busybox
    command: sh -c 'echo app up; exec sleep 300'
    stop_signal: SIGKILL
    develop:
      watch:
        - { action: sync, path: ./src, target: /app }
        - { action: sync, path: ./seed, target: /seed, initial_sync: true }
`,
  });
  const bad = await compose(dir, ['up', '-d', '--watch']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, '--watch and --detach are incompatible\n');
  const child = spawn(process.execPath, [BERTH, 'compose', '-f', path.join(dir, 'compose.yaml'), 'up', '--watch', '--no-color'], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await until(() => err.includes('Watch enabled') && out.includes('app up'), 60_000);
    // initial_sync: the rule's files are copied in as watching starts, before any change
    const seeded = await until(async () => {
      const r = await compose(dir, ['exec', '-T', 'app', 'cat', '/seed/sub/a.txt']);
      return r.stdout === 'seeded\n' ? r.stdout : '';
    }, 30_000, 300);
    assert.equal(seeded, 'seeded\n');
    fs.writeFileSync(path.join(dir, 'src/hello.txt'), 'v2\n');
    const synced = await until(async () => {
      const r = await compose(dir, ['exec', '-T', 'app', 'cat', '/app/hello.txt']);
      return r.stdout === 'v2\n' ? r.stdout : '';
    }, 30_000, 300);
    assert.equal(synced, 'v2\n');
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    assert.equal(code, 130, `${out}\n${err}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  await ok(dir, ['down', '-t', '0']);
});

test('restart SERVICE restarts its dependents too, unless --no-deps', async () => {
  const dir = makeProject('restartdeps', {
    'compose.yaml': 'services:\n  web:\n    image: busybox\n    command: sleep 300\n    depends_on: [db]\n    stop_signal: SIGKILL\n  db:\n    image: busybox\n    command: sleep 300\n    stop_signal: SIGKILL\n',
  });
  await ok(dir, ['up', '-d']);
  const started = async (n: string) => (await inspect(`restartdeps-${n}-1`)).State.StartedAt;
  const w0 = await started('web');
  const r = await ok(dir, ['restart', 'db']);
  assert.match(r.stderr, /Container restartdeps-db-1 {2}Started/);
  assert.match(r.stderr, /Container restartdeps-web-1 {2}Started/);
  assert.ok(r.stderr.indexOf('restartdeps-db-1  Started') < r.stderr.indexOf('restartdeps-web-1  Restarting'), 'dependency first');
  const w1 = await started('web');
  assert.notEqual(w1, w0);
  const nd = await ok(dir, ['restart', '--no-deps', 'db']);
  assert.doesNotMatch(nd.stderr, /restartdeps-web-1/);
  assert.equal(await started('web'), w1);
  await ok(dir, ['down', '-t', '0']);
});

test('post_start hooks run after the container starts, pre_stop hooks before it stops; a failing hook fails the command', async () => {
  const dir = makeProject('hooks', {
    'compose.yaml': `
services:
  app:
    image: busybox
    command: sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done'
    volumes: [shared:/shared]
    post_start:
      - command: sh -c 'echo started-by-hook > /shared/post'
      - command: ["sh", "-c", "echo $$HOOK_VAR $$(id -u) $$(pwd) > /tmp/post2"]
        user: "1000"
        working_dir: /tmp
        environment: { HOOK_VAR: hv }
    pre_stop:
      - command: sh -c 'echo stopping > /shared/pre'
volumes:
  shared: {}
`,
  });
  await ok(dir, ['up', '-d']);
  assert.equal((await ok(dir, ['exec', '-T', 'app', 'cat', '/shared/post', '/tmp/post2'])).stdout, 'started-by-hook\nhv 1000 /tmp\n');
  await ok(dir, ['stop']);
  assert.equal((await ok(dir, ['run', '--rm', '-T', 'app', 'cat', '/shared/pre'])).stdout, 'stopping\n');

  const bad = makeProject('hookfail', {
    'compose.yaml': 'services:\n  app:\n    image: busybox\n    command: sleep 300\n    stop_signal: SIGKILL\n    post_start:\n      - command: sh -c "exit 3"\n',
  });
  const r = await compose(bad, ['up', '-d']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Container hookfail-app-1 {2}Error/);
  assert.match(r.stderr, /post_start hook exited with status 3/);
  await ok(bad, ['down', '-t', '0']);
  await ok(dir, ['down', '-v', '-t', '0']);
});
