import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { loadProject } from '../../src/compose/index.js';
import { createBody } from '../../src/compose/engine/create-body.js';
import { serviceHash } from '../../src/compose/engine/hash.js';
import { dependencyLevels, withDependencies } from '../../src/compose/engine/graph.js';
import { planService, serviceScale, type Observed } from '../../src/compose/engine/plan.js';
import { LogPrinter } from '../../src/compose/engine/logprefix.js';
import { Progress } from '../../src/compose/engine/progress.js';
import { LABEL, containerName, shortContainerName, builtImageName } from '../../src/compose/engine/names.js';
import { usedResources } from '../../src/compose/engine/resources.js';
import { combinedStatus } from '../../src/cli/commands/compose_ls.js';
import { formatComposePs } from '../../src/cli/format/compose-ps.js';
import { project } from './compose-helpers.js';

const load = (yaml: string, name = 'app') => loadProject({ workingDir: project({ 'compose.yaml': yaml }, name), env: {} });

class Sink extends Writable {
  text = '';
  override _write(c: Buffer, _e: string, cb: () => void): void {
    this.text += c.toString();
    cb();
  }
}

test('names: containers <project>-<service>-<n>, container_name wins, images <project>-<service>', () => {
  assert.equal(containerName('app', 'web', {}, 2), 'app-web-2');
  assert.equal(containerName('app', 'web', { container_name: 'front' }, 1), 'front');
  assert.equal(builtImageName('app', 'web'), 'app-web');
  assert.equal(shortContainerName('app', '/app-web-1'), 'web-1');
  assert.equal(shortContainerName('app', 'front'), 'front');
});

test('create body: the service model mapped onto the Engine API as compose maps it', async () => {
  const p = await load(`
services:
  web:
    image: busybox
    command: httpd -f -p 8080
    entrypoint: ["/bin/sh", "-c"]
    environment: { A: "1", B: null }
    env_file: []
    ports: ["127.0.0.1:8081:8080", "9000/udp"]
    expose: ["7000-7001"]
    volumes: ["data:/data", "./src:/src:ro", "/anon", { type: tmpfs, target: /tmp/t, tmpfs: { size: 1048576 } }]
    restart: on-failure:3
    healthcheck: { test: "wget -q localhost:8080", interval: 2s, timeout: 1s, retries: 5, start_period: 500ms }
    working_dir: /srv
    user: "1000:1000"
    labels: { tier: front }
    tmpfs: /run
    cap_add: [NET_ADMIN]
    init: true
    stop_grace_period: 3s
    stop_signal: SIGUSR1
    extra_hosts: ["db.local:10.0.0.2"]
    mem_limit: 64m
    cpus: 0.5
    networks:
      front: { aliases: [www] }
      back: {}
    depends_on: { db: { condition: service_healthy } }
  db:
    image: busybox
networks: { front: {}, back: {} }
volumes: { data: {} }
`);
  const { name, body, extraNetworks } = createBody(p, 'web', 'busybox', { number: 1, imageId: 'sha256:abc' });
  assert.equal(name, 'app-web-1');
  const b = body as any;
  assert.deepEqual(b.Cmd, ['httpd', '-f', '-p', '8080']);
  assert.deepEqual(b.Entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(b.Env, ['A=1']);
  assert.deepEqual(Object.keys(b.ExposedPorts).sort(), ['7000/tcp', '7001/tcp', '8080/tcp', '9000/udp']);
  assert.deepEqual(b.HostConfig.PortBindings['8080/tcp'], [{ HostIp: '127.0.0.1', HostPort: '8081' }]);
  assert.deepEqual(b.HostConfig.PortBindings['9000/udp'], [{ HostIp: '', HostPort: '' }]);
  assert.deepEqual(b.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(b.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost:8080'], Interval: 2e9, Timeout: 1e9, StartPeriod: 5e8, Retries: 5 });
  assert.equal(b.WorkingDir, '/srv');
  assert.equal(b.User, '1000:1000');
  assert.equal(b.StopSignal, 'SIGUSR1');
  assert.equal(b.StopTimeout, 3);
  assert.equal(b.Labels.tier, 'front');
  assert.equal(b.Labels[LABEL.project], 'app');
  assert.equal(b.Labels[LABEL.service], 'web');
  assert.equal(b.Labels[LABEL.number], '1');
  assert.equal(b.Labels[LABEL.oneoff], 'False');
  assert.equal(b.Labels[LABEL.image], 'sha256:abc');
  assert.equal(b.Labels[LABEL.dependsOn], 'db:service_healthy:false');
  assert.equal(b.Labels[LABEL.configHash], serviceHash(p.services.web));
  assert.match(b.Labels[LABEL.workingDir], /\/app$/);
  assert.match(b.Labels[LABEL.configFiles], /\/app\/compose\.yaml$/);
  assert.deepEqual(b.HostConfig.Binds, [`${p.workingDir}/src:/src:ro`]);
  assert.deepEqual(b.HostConfig.Mounts, [
    { Type: 'volume', Target: '/data', ReadOnly: false, Source: 'app_data' },
    { Type: 'volume', Target: '/anon', ReadOnly: false },
    { Type: 'tmpfs', Target: '/tmp/t', ReadOnly: false, TmpfsOptions: { SizeBytes: 1048576 } },
  ]);
  assert.deepEqual(b.Volumes, { '/anon': {} });
  assert.deepEqual(b.HostConfig.Tmpfs, { '/run': '' });
  assert.deepEqual(b.HostConfig.CapAdd, ['NET_ADMIN']);
  assert.equal(b.HostConfig.Init, true);
  assert.deepEqual(b.HostConfig.ExtraHosts, ['db.local:10.0.0.2']);
  assert.equal(b.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(b.HostConfig.NanoCpus, 5e8);
  // primary network by name order (back < front); aliases: container name, service name, extra
  assert.equal(b.HostConfig.NetworkMode, 'app_back');
  assert.deepEqual(b.NetworkingConfig.EndpointsConfig.app_back.Aliases, ['app-web-1', 'web']);
  assert.deepEqual(extraNetworks, [{ network: 'app_front', endpoint: { Aliases: ['app-web-1', 'web', 'www'] } }]);
});

test('create body: run containers are oneoff, publish no service ports unless asked, get no service alias', async () => {
  const p = await load('services:\n  web:\n    image: busybox\n    ports: ["8080:80"]\n    restart: always\n');
  const run = createBody(p, 'web', 'busybox', { number: 1, oneoff: true, name: 'app-web-run-1', command: ['echo', 'x'], env: ['X=1'] }).body as any;
  assert.equal(run.Labels[LABEL.oneoff], 'True');
  assert.equal(run.HostConfig.PortBindings, undefined);
  assert.equal(run.HostConfig.RestartPolicy, undefined);
  assert.deepEqual(run.Cmd, ['echo', 'x']);
  assert.deepEqual(run.Env, ['X=1']);
  assert.deepEqual(run.NetworkingConfig.EndpointsConfig.app_default.Aliases, ['app-web-run-1']);
  const sp = createBody(p, 'web', 'busybox', { number: 1, oneoff: true, publishPorts: true }).body as any;
  assert.deepEqual(sp.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  const host = await load('services:\n  web:\n    image: busybox\n    network_mode: host\n');
  const hb = createBody(host, 'web', 'busybox', { number: 1 }).body as any;
  assert.equal(hb.HostConfig.NetworkMode, 'host');
  assert.equal(hb.NetworkingConfig, undefined);
});

test('secrets and configs from files are bind-mounted read-only at compose paths', async () => {
  const dir = project({
    'compose.yaml': 'services:\n  web:\n    image: busybox\n    secrets: [pw]\n    configs: [{ source: conf, target: /etc/app.conf }]\nsecrets:\n  pw: { file: ./pw.txt }\nconfigs:\n  conf: { file: ./app.conf }\n',
    'pw.txt': 's3cret',
    'app.conf': 'x=1',
  });
  const p = await loadProject({ workingDir: dir, env: {} });
  const b = createBody(p, 'web', 'busybox', { number: 1 }).body as any;
  assert.deepEqual(b.HostConfig.Mounts, [
    { Type: 'bind', Source: `${dir}/pw.txt`, Target: '/run/secrets/pw', ReadOnly: true },
    { Type: 'bind', Source: `${dir}/app.conf`, Target: '/etc/app.conf', ReadOnly: true },
  ]);
});

test('config hash: stable, changes with what reaches the container, not with scale or depends_on', async () => {
  const a = await load('services:\n  web:\n    image: busybox\n    environment: { A: "1", B: "2" }\n');
  const b = await load('services:\n  web:\n    environment: { B: "2", A: "1" }\n    image: busybox\n    scale: 3\n');
  const c = await load('services:\n  web:\n    image: busybox\n    environment: { A: "1", B: "3" }\n');
  assert.equal(serviceHash(a.services.web), serviceHash(b.services.web));
  assert.notEqual(serviceHash(a.services.web), serviceHash(c.services.web));
  assert.match(serviceHash(a.services.web), /^[0-9a-f]{64}$/);
});

test('dependency order: levels after depends_on, selection pulls dependencies in', async () => {
  const p = await load('services:\n  web: { image: x, depends_on: [api] }\n  api: { image: x, depends_on: [db, cache] }\n  db: { image: x }\n  cache: { image: x }\n  other: { image: x }\n');
  assert.deepEqual(dependencyLevels(p, Object.keys(p.services)), [['cache', 'db', 'other'], ['api'], ['web']]);
  assert.deepEqual(withDependencies(p, ['web']), ['api', 'cache', 'db', 'web']);
  assert.deepEqual(withDependencies(p, ['web'], false), ['web']);
  assert.throws(() => withDependencies(p, ['nope']), /no such service: nope/);
});

test('a depends_on cycle and an undefined dependency are load errors', async () => {
  await assert.rejects(load('services:\n  a: { image: x, depends_on: [b] }\n  b: { image: x, depends_on: [a] }\n'), /dependency cycle detected: a -> b -> a/);
  await assert.rejects(load('services:\n  a: { image: x, depends_on: [zz] }\n'), /service "a" depends on undefined service "zz"/);
});

const obs = (number: number, hash: string, state = 'running', image?: string): Observed => ({
  id: `id${number}`,
  name: `app-web-${number}`,
  number,
  state,
  labels: { [LABEL.configHash]: hash, ...(image ? { [LABEL.image]: image } : {}) },
});

test('convergence: no-op keeps, changed config recreates, scale up numbers on, scale down drops the highest', () => {
  assert.deepEqual(planService([obs(1, 'h')], 1, 'h', 'diverged'), { create: [], recreate: [], keep: [obs(1, 'h')], remove: [] });
  assert.deepEqual(planService([obs(1, 'old')], 1, 'h', 'diverged').recreate, [obs(1, 'old')]);
  assert.deepEqual(planService([obs(1, 'old')], 1, 'h', 'never').keep, [obs(1, 'old')]);
  assert.deepEqual(planService([obs(1, 'h')], 1, 'h', 'force').recreate, [obs(1, 'h')]);
  assert.deepEqual(planService([obs(1, 'h', 'running', 'sha256:a')], 1, 'h', 'diverged', 'sha256:b').recreate.length, 1);
  assert.deepEqual(planService([obs(1, 'h')], 3, 'h', 'diverged').create, [2, 3]);
  assert.deepEqual(planService([], 2, 'h', 'diverged').create, [1, 2]);
  const down = planService([obs(1, 'h'), obs(2, 'h'), obs(3, 'h')], 1, 'h', 'diverged');
  assert.deepEqual(down.remove.map((c) => c.number), [3, 2]);
  assert.deepEqual(planService([obs(1, 'h'), obs(3, 'h')], 3, 'h', 'diverged').create, [2]);
  assert.equal(serviceScale({ deploy: { replicas: 2 } }), 2);
  assert.equal(serviceScale({ scale: 4, deploy: { replicas: 2 } }), 4);
  assert.equal(serviceScale({ scale: 4 }, 1), 1);
  assert.equal(serviceScale({}), 1);
});

test('log prefixes: `name  | ` padded to the longest name plus one, coloured from compose\'s rainbow', () => {
  const out = new Sink();
  const lp = new LogPrinter(out, { color: false, prefix: true });
  lp.register('web-1');
  lp.register('db-1');
  const s = lp.stream('web-1');
  s.write('hello\nwor');
  s.write('ld\r\n');
  lp.line('db-1', 'ready');
  lp.status('web-1', 'exited with code 0');
  assert.equal(out.text, 'web-1  | hello\nweb-1  | world\ndb-1   | ready\nweb-1 exited with code 0\n');
  const col = new Sink();
  const cp = new LogPrinter(col, { color: true, prefix: true });
  cp.line('web-1', 'x');
  cp.line('db-1', 'y');
  assert.equal(col.text, '\x1b[36mweb-1  | \x1b[0mx\n\x1b[33mdb-1   | \x1b[0my\n');
  const bare = new Sink();
  new LogPrinter(bare, { color: false, prefix: false }).line('web-1', 'x');
  assert.equal(bare.text, 'x\n');
});

test('progress: plain lines off a terminal, a [+] block with ✔ on one', () => {
  const plain = new Sink();
  const p = new Progress(plain, false);
  p.event('Network app_default', 'Creating');
  p.event('Network app_default', 'Created');
  p.event('Container app-web-1', 'Started');
  p.stop();
  assert.equal(plain.text, ' Network app_default  Creating\n Network app_default  Created\n Container app-web-1  Started\n');
  const tty = new Sink();
  const t = new Progress(tty, true);
  t.event('Container app-web-1', 'Started');
  t.stop();
  assert.match(tty.text, /\[\+\] Running 1\/1/);
  assert.match(tty.text, /✔.* Container app-web-1  Started/);
});

test('used resources: the networks and named volumes the selected services need', async () => {
  const p = await load('services:\n  a: { image: x, volumes: ["d:/d"] }\n  b: { image: x, network_mode: host }\nvolumes: { d: {} }\n');
  assert.deepEqual(usedResources(p, ['a', 'b']), { networks: ['default'], volumes: ['d'] });
  assert.deepEqual(usedResources(p, ['b']), { networks: [], volumes: [] });
});

test('ls status and ps rows as compose prints them', () => {
  assert.equal(combinedStatus(['running', 'exited', 'running']), 'exited(1), running(2)');
  const row = {
    Id: 'a'.repeat(64), Names: ['/app-web-1'], Image: 'busybox', Command: 'httpd -f -p 8080', Created: Math.floor(Date.now() / 1000) - 120,
    State: 'running', Status: 'Up 2 minutes (healthy)', Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
    Labels: { [LABEL.service]: 'web', [LABEL.project]: 'app' },
  };
  const table = formatComposePs([row], '', false);
  const [head, line] = table.split('\n');
  assert.match(head, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
  assert.match(line, /^app-web-1\s+busybox\s+"httpd -f -p 8080"\s+web\s+2 minutes ago\s+Up 2 minutes \(healthy\)\s+0\.0\.0\.0:8080->80\/tcp$/);
  const json = JSON.parse(formatComposePs([row], 'json', false));
  assert.equal(json.Name, 'app-web-1');
  assert.equal(json.Service, 'web');
  assert.equal(json.Project, 'app');
  assert.equal(json.Health, 'healthy');
  assert.deepEqual(json.Publishers, [{ URL: '0.0.0.0', TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp' }]);
  assert.equal(formatComposePs([row], '{{.Service}}:{{.State}}', false), 'web:running\n');
});

test('watch rules: paths resolved against the project, ignore/include as .dockerignore patterns, sync targets', async () => {
  const { watchRules, ruleMatches, syncTarget } = await import('../../src/compose/engine/watch.js');
  const p = await load(`
services:
  web:
    image: x
    develop:
      watch:
        - { action: sync, path: ./src, target: /app, ignore: ["*.tmp", "node_modules/"] }
        - { action: sync+restart, path: ./conf, target: /etc/app, include: ["*.conf"] }
  bad:
    image: x
    develop:
      watch: [{ action: rebuild, path: . }]
`);
  assert.throws(() => watchRules(p, ['bad']), /service "bad" has no build section/);
  const [src, conf] = watchRules(p, ['web']);
  assert.equal(src.path, `${p.workingDir}/src`);
  assert.ok(ruleMatches(src, `${p.workingDir}/src/a/b.js`));
  assert.ok(!ruleMatches(src, `${p.workingDir}/src/x.tmp`));
  assert.ok(!ruleMatches(src, `${p.workingDir}/src/node_modules/m/i.js`));
  assert.ok(!ruleMatches(src, `${p.workingDir}/other/b.js`));
  assert.ok(ruleMatches(conf, `${p.workingDir}/conf/app.conf`));
  assert.ok(!ruleMatches(conf, `${p.workingDir}/conf/notes.txt`));
  assert.equal(syncTarget(src, `${p.workingDir}/src/a/b.js`), '/app/a/b.js');
});

test('parsed YAML is cached by content: the second parse is the same model, tags and anchors included', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { parseComposeYaml, RESET, Override } = await import('../../src/compose/loader/yaml.js');
  const prev = process.env.XDG_CACHE_HOME;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-cache-'));
  process.env.XDG_CACHE_HOME = dir;
  try {
    const text = `x-base: &base\n  image: busybox\n  mode: 0440\nservices:\n  web:\n    <<: *base\n    ports: !reset []\n    environment: !override { A: "1" }\n`;
    const first = parseComposeYaml(text);
    const files = fs.readdirSync(path.join(dir, 'berth', 'compose-yaml'));
    assert.equal(files.length, 1);
    const second = parseComposeYaml(text);
    assert.deepEqual(second, first);
    const web = (second.services as any).web;
    assert.equal(web.image, 'busybox');
    assert.equal(web.mode, 0o440);
    assert.equal(web.ports, RESET);
    assert.ok(web.environment instanceof Override);
    // values JSON cannot carry are parsed every time instead of cached
    parseComposeYaml('services:\n  a:\n    cpus: .nan\n');
    assert.equal(fs.readdirSync(path.join(dir, 'berth', 'compose-yaml')).length, 1);
    assert.throws(() => parseComposeYaml('services: [\n'), /^Error: yaml: /);
  } finally {
    if (prev === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = prev;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
