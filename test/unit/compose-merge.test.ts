import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProject } from '../../src/compose/index.js';
import { project } from './compose-helpers.js';

async function merged(base: string, ...overrides: string[]) {
  const files: Record<string, string> = { 'compose.yaml': base };
  overrides.forEach((o, i) => (files[`o${i}.yaml`] = o));
  const dir = project(files);
  return loadProject({ workingDir: dir, env: {}, files: Object.keys(files).map((f) => join(dir, f)) });
}

test('mappings deep-merge; command and entrypoint are replaced; other sequences append or union', async () => {
  const p = await merged(
    `services:
  web:
    image: a
    command: ["echo", "foo"]
    entrypoint: /a
    environment: {A: "1", B: "1"}
    labels: [x=1]
    dns: [1.1.1.1]
    expose: ["80"]
    cap_add: [NET_ADMIN]
    healthcheck: {test: ["CMD", "a"], interval: 10s}
`,
    `services:
  web:
    command: ["echo", "bar"]
    entrypoint: [/b, c]
    environment: [B=2, C=2]
    labels: {y: "2"}
    dns: [8.8.8.8, 1.1.1.1]
    expose: [80, 81]
    cap_add: [NET_ADMIN, SYS_TIME]
    healthcheck: {test: "true"}
`,
  );
  const w = p.services.web;
  assert.deepEqual(w.command, ['echo', 'bar']);
  assert.deepEqual(w.entrypoint, ['/b', 'c']);
  assert.deepEqual(w.environment, { A: '1', B: '2', C: '2' });
  assert.deepEqual(w.labels, { x: '1', y: '2' });
  assert.deepEqual(w.dns, ['1.1.1.1', '8.8.8.8']);
  assert.deepEqual(w.expose, ['80', '81']);
  assert.deepEqual(w.cap_add, ['NET_ADMIN', 'SYS_TIME']);
  assert.deepEqual(w.healthcheck, { test: ['CMD-SHELL', 'true'], interval: '10s' });
});

test('ports merge by ip/target/published/protocol, volumes/secrets by target', async () => {
  const p = await merged(
    `services:
  web:
    image: a
    ports: ["8080:80", "443:443"]
    volumes: ["foo:/work", "./src:/src"]
    secrets: [s1, {source: s2, target: /run/x}]
secrets:
  s1: {file: ./s1}
  s2: {file: ./s2}
volumes: {foo: {}, bar: {}}
`,
    `services:
  web:
    ports: ["8080:80", "9090:90/udp"]
    volumes: ["bar:/work"]
    secrets: [{source: s1, mode: 0400}, {source: s1, target: /run/x}]
`,
  );
  const w = p.services.web;
  assert.deepEqual((w.ports as Array<{ published: string }>).map((x) => x.published), ['8080', '443', '9090']);
  assert.deepEqual(w.volumes, [
    { type: 'volume', source: 'bar', target: '/work', volume: {} },
    { type: 'bind', source: join(p.workingDir, 'src'), target: '/src', bind: { create_host_path: true } },
  ]);
  assert.deepEqual(w.secrets, [{ source: 's1', mode: 0o400 }, { source: 's1', target: '/run/x' }]);
  assert.equal(p.secrets.s1.file, join(p.workingDir, 's1'));
});

test('!reset removes, !override replaces', async () => {
  const p = await merged(
    `services:
  app:
    image: myapp
    ports: ["8080:80"]
    environment:
      FOO: BAR
      KEEP: "1"
    labels: {a: "1"}
`,
    `services:
  app:
    image: myapp
    ports: !reset []
    environment:
      FOO: !reset null
    labels: !override {b: "2"}
`,
  );
  assert.equal(p.services.app.ports, undefined);
  assert.deepEqual(p.services.app.environment, { KEEP: '1' });
  assert.deepEqual(p.services.app.labels, { b: '2' });
  const q = await merged('services:\n  app:\n    image: a\n    ports: ["8080:80"]\n', 'services:\n  app:\n    ports: !override\n      - "8443:443"\n');
  assert.deepEqual((q.services.app.ports as Array<{ target: number }>).map((x) => x.target), [443]);
});

test('relative paths of override files resolve against the project directory', async () => {
  const dir = project({
    'compose.yaml': 'services:\n  web:\n    build: ./app\n',
    'sub/over.yaml': 'services:\n  web:\n    volumes: ["./data:/data"]\n',
  });
  const p = await loadProject({ env: {}, files: [join(dir, 'compose.yaml'), join(dir, 'sub/over.yaml')] });
  assert.equal(p.workingDir, dir);
  assert.equal((p.services.web.build as { context: string }).context, join(dir, 'app'));
  assert.equal((p.services.web.volumes as Array<{ source: string }>)[0].source, join(dir, 'data'));
});

test('extends: same file, other file (paths relative to it), chained, with merge rules', async () => {
  const dir = project({
    'common/base.yaml': 'services:\n  base:\n    image: base\n    build: ./ctx\n    environment: {A: "1", B: "1"}\n    ports: ["80:80"]\n',
    'compose.yaml': `services:
  mid:
    extends: {file: common/base.yaml, service: base}
    environment: {B: "2"}
  web:
    extends: mid
    image: web
    command: run
    ports: ["81:81"]
`,
  });
  const p = await loadProject({ workingDir: dir, env: {} });
  const w = p.services.web;
  assert.equal(w.image, 'web');
  assert.equal(w.extends, undefined);
  assert.deepEqual(w.environment, { A: '1', B: '2' });
  assert.deepEqual(w.command, ['run']);
  assert.equal((w.ports as unknown[]).length, 2);
  assert.equal((w.build as { context: string }).context, join(dir, 'common/ctx'));
  assert.equal(p.services.mid.image, 'base');
});

test('extends: unknown service and cycles are errors', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    extends: nope\n' });
  await assert.rejects(loadProject({ workingDir: dir, env: {} }), /cannot extend service "web" in .*compose\.yaml: service "nope" not found/);
  const cyc = project({ 'compose.yaml': 'services:\n  a:\n    extends: b\n  b:\n    extends: a\n' });
  await assert.rejects(loadProject({ workingDir: cyc, env: {} }), /Circular reference with extends: a -> b -> a/);
});

test('include: path, project_directory, env_file; conflicts are errors', async () => {
  const dir = project({
    'compose.yaml': 'include:\n  - path: db/compose.yaml\n    env_file: db/db.env\nservices:\n  web:\n    image: web\n    depends_on: [db]\n',
    'db/compose.yaml': 'services:\n  db:\n    image: "postgres:${PGV}"\n    volumes: ["./init:/docker-entrypoint-initdb.d", "pg:/var/lib/postgresql/data"]\nvolumes:\n  pg: {}\n',
    'db/db.env': 'PGV=16\n',
  });
  const p = await loadProject({ workingDir: dir, env: {} });
  assert.equal(p.services.db.image, 'postgres:16');
  assert.equal((p.services.db.volumes as Array<{ source: string }>)[0].source, join(dir, 'db/init'));
  assert.deepEqual(p.volumes.pg, { name: 'proj_pg' });
  const clash = project({
    'compose.yaml': 'include: [other.yaml]\nservices:\n  web:\n    image: a\n',
    'other.yaml': 'services:\n  web:\n    image: b\n',
  });
  await assert.rejects(loadProject({ workingDir: clash, env: {} }), { message: 'services.web conflicts with imported resource' });
});
