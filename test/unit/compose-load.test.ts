import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProject, loadProjectWithWarnings } from '../../src/compose/index.js';
import { project } from './compose-helpers.js';

const load = (dir: string, extra: Parameters<typeof loadProject>[0] = {}) => loadProject({ workingDir: dir, env: {}, ...extra });

test('interpolation from the environment and .env, the process environment winning', async () => {
  const dir = project({
    '.env': 'TAG=fromdotenv\nPORT=8080\nONLY_DOTENV=x\n',
    'compose.yaml': 'services:\n  web:\n    image: "nginx:${TAG}"\n    ports: ["${PORT}:80"]\n    environment:\n      D: $ONLY_DOTENV\n      E: "$$HOME"\n      F: ${MISSING:-dflt}\n',
  });
  const p = await load(dir, { env: { TAG: 'fromenv' } });
  assert.equal(p.services.web.image, 'nginx:fromenv');
  assert.equal((p.services.web.ports as Array<{ published: string }>)[0].published, '8080');
  assert.deepEqual(p.services.web.environment, { D: 'x', E: '$HOME', F: 'dflt' });
  assert.equal(p.environment.TAG, 'fromenv');
});

test('--env-file replaces .env, several allowed, later ones win; missing one is an error', async () => {
  const dir = project({
    '.env': 'TAG=dotenv\n',
    'a.env': 'TAG=a\nX=a\n',
    'b.env': 'X=b\n',
    'compose.yaml': 'services:\n  web:\n    image: "img:${TAG}-${X}"\n',
  });
  const p = await load(dir, { envFiles: [join(dir, 'a.env'), join(dir, 'b.env')] });
  assert.equal(p.services.web.image, 'img:a-b');
  await assert.rejects(load(dir, { envFiles: [join(dir, 'nope.env')] }), { message: `Couldn't find env file: ${join(dir, 'nope.env')}` });
});

test('interpolation errors name the attribute path', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: "${TAG"\n' });
  await assert.rejects(load(dir), { message: 'invalid interpolation format for services.web.image.\nYou may need to escape any $ with another $.\n${TAG' });
  const dir2 = project({ 'compose.yaml': 'services:\n  web:\n    image: "${TAG:?set a tag}"\n' });
  await assert.rejects(load(dir2), { message: 'required variable TAG is missing a value: set a tag' });
});

test('--no-interpolate keeps the text as written', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: "nginx:${TAG:-x}"\n' });
  const p = await load(dir, { skipInterpolation: true });
  assert.equal(p.services.web.image, 'nginx:${TAG:-x}');
});

test('interpolated numbers and booleans get their types back', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    read_only: "${RO}"\n    cpus: "${CPUS}"\n    ports: [{target: "${T}", published: 80}]\n' });
  const p = await load(dir, { env: { RO: 'true', CPUS: '1.5', T: '8080' } });
  assert.equal(p.services.web.read_only, true);
  assert.equal(p.services.web.cpus, 1.5);
  assert.deepEqual(p.services.web.ports, [{ mode: 'ingress', target: 8080, published: '80', protocol: 'tcp' }]);
});

test('YAML anchors, merge keys and x- extensions', async () => {
  const dir = project({
    'compose.yaml': `x-common: &common
  restart: always
  environment:
    A: "1"
services:
  web:
    <<: *common
    image: web
  worker:
    <<: *common
    image: worker
    restart: "no"
`,
  });
  const p = await load(dir);
  assert.equal(p.services.web.restart, 'always');
  assert.equal(p.services.worker.restart, 'no');
  assert.deepEqual(p.services.worker.environment, { A: '1' });
  assert.deepEqual(p.extensions['x-common'], { restart: 'always', environment: { A: '1' } });
});

test('project name: -p, COMPOSE_PROJECT_NAME, name:, then the directory normalised', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n' }, '-My.App_1');
  assert.equal((await load(dir)).name, 'myapp_1');
  assert.equal((await load(dir, { env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).name, 'fromenv');
  assert.equal((await load(dir, { projectName: 'flag', env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).name, 'flag');
  const named = project({ 'compose.yaml': 'name: ${N:-topname}\nservices:\n  web:\n    image: x\n' });
  assert.equal((await load(named)).name, 'topname');
  await assert.rejects(load(dir, { projectName: 'Bad Name' }), {
    message: 'invalid project name "Bad Name": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number',
  });
  await assert.rejects(load(named, { env: { N: '_x' } }), /invalid project name "_x"/);
});

test('default files: compose.yaml plus compose.override.yaml, found from a subdirectory too', async () => {
  const dir = project({
    'compose.yaml': 'services:\n  web:\n    image: base\n    ports: ["80:80"]\n',
    'compose.override.yaml': 'services:\n  web:\n    image: over\n    ports: ["81:81"]\n',
    'docker-compose.yml': 'services:\n  other:\n    image: x\n',
    'sub/.keep': '',
  });
  const { project: p, warnings } = await loadProjectWithWarnings({ workingDir: join(dir, 'sub'), env: {} });
  assert.deepEqual(p.composeFiles, [join(dir, 'compose.yaml'), join(dir, 'compose.override.yaml')]);
  assert.equal(p.services.web.image, 'over');
  assert.equal((p.services.web.ports as unknown[]).length, 2);
  assert.match(warnings[0], /Found multiple config files with supported names/);
  const empty = project({ 'README': '' });
  await assert.rejects(load(empty), { message: 'no configuration file provided: not found' });
});

test('COMPOSE_FILE lists files separated by ":"', async () => {
  const dir = project({ 'a.yml': 'services:\n  web:\n    image: a\n', 'b.yml': 'services:\n  web:\n    image: b\n' });
  const p = await load(dir, { env: { COMPOSE_FILE: 'a.yml:b.yml' } });
  assert.equal(p.services.web.image, 'b');
  const viaDotenv = project({ '.env': 'COMPOSE_FILE=b.yml;a.yml\nCOMPOSE_PATH_SEPARATOR=;\n', 'a.yml': 'services:\n  web:\n    image: a\n', 'b.yml': 'services:\n  web:\n    image: b\n' });
  assert.equal((await load(viaDotenv)).services.web.image, 'a');
});

test('a -f file that does not exist', async () => {
  const dir = project({ 'compose.yaml': 'services: {}\n' });
  await assert.rejects(load(dir, { files: [join(dir, 'missing.yml')] }), { message: `open ${join(dir, 'missing.yml')}: no such file or directory` });
});

test('env_file: string, list and long form; environment wins; missing file errors unless required: false', async () => {
  const dir = project({
    'common.env': 'A=common\nB=common\n',
    'web.env': 'B=web\nC="quoted value"\n',
    'compose.yaml': `services:
  web:
    image: x
    env_file:
      - common.env
      - path: web.env
      - path: optional.env
        required: false
    environment:
      - C=env
      - FROM_HOST
      - NOT_SET
  other:
    image: x
    env_file: common.env
`,
  });
  const p = await load(dir, { env: { FROM_HOST: 'h' } });
  assert.deepEqual(p.services.web.environment, { A: 'common', B: 'web', C: 'env', FROM_HOST: 'h', NOT_SET: null });
  assert.deepEqual(p.services.web.env_file, [
    { path: join(dir, 'common.env'), required: true },
    { path: join(dir, 'web.env'), required: true },
    { path: join(dir, 'optional.env'), required: false },
  ]);
  assert.deepEqual(p.services.other.environment, { A: 'common', B: 'common' });
  const bad = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: nope.env\n' });
  const missing = join(bad, 'nope.env');
  await assert.rejects(load(bad), { message: `env file ${missing} not found: stat ${missing}: no such file or directory` });
});

test('profiles: --profile, COMPOSE_PROFILES, services without profiles always on', async () => {
  const dir = project({
    'compose.yaml': `services:
  foo: {image: foo}
  bar: {image: bar, profiles: [test]}
  baz: {image: baz, profiles: [test], depends_on: [bar]}
  zot: {image: zot, profiles: [debug], depends_on: [bar]}
`,
  });
  assert.deepEqual(Object.keys((await load(dir)).services), ['foo']);
  assert.deepEqual(Object.keys((await load(dir, { profiles: ['test'] })).services).sort(), ['bar', 'baz', 'foo']);
  assert.deepEqual(Object.keys((await load(dir, { env: { COMPOSE_PROFILES: 'test,debug' } })).services).sort(), ['bar', 'baz', 'foo', 'zot']);
  assert.deepEqual(Object.keys((await load(dir, { profiles: ['*'] })).services).length, 4);
  await assert.rejects(load(dir, { profiles: ['debug'] }), { message: 'service "zot" depends on undefined service "bar": invalid compose project' });
  assert.deepEqual(Object.keys((await load(dir)).disabledServices).sort(), ['bar', 'baz', 'zot']);
});

test('depends_on: undefined service, cycles, optional dependency on a disabled service', async () => {
  const undef = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on: [db]\n' });
  await assert.rejects(load(undef), { message: 'service "web" depends on undefined service "db": invalid compose project' });
  const cyc = project({ 'compose.yaml': 'services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n' });
  await assert.rejects(load(cyc), { message: 'dependency cycle detected: a -> b -> c -> a' });
  const opt = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_healthy, required: false}\n  db: {image: x, profiles: [db]}\n' });
  assert.deepEqual((await load(opt)).services.web.depends_on, {});
  assert.deepEqual((await load(opt, { profiles: ['db'] })).services.web.depends_on, { db: { condition: 'service_healthy', required: false } });
});

test('references to undefined networks, volumes, secrets; a service needs an image or a build', async () => {
  const cases: Array<[string, string]> = [
    ['services:\n  web:\n    image: x\n    networks: [front]\n', 'service "web" refers to undefined network front: invalid compose project'],
    ['services:\n  web:\n    image: x\n    volumes: ["data:/data"]\n', 'service "web" refers to undefined volume data: invalid compose project'],
    ['services:\n  web:\n    image: x\n    secrets: [s]\n', 'service "web" refers to undefined secret s: invalid compose project'],
    ['services:\n  web:\n    restart: always\n', 'service "web" has neither an image nor a build context specified: invalid compose project'],
  ];
  for (const [yaml, message] of cases) await assert.rejects(load(project({ 'compose.yaml': yaml })), { message });
});

test('malformed YAML is reported with its line', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n   bad: [\n' });
  await assert.rejects(load(dir), /^Error: yaml: line \d+/);
  const dup = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    image: y\n' });
  await assert.rejects(load(dup), /yaml: .*(unique|duplicate)/i);
});

test('profiles: naming a service activates its profiles, so its dependencies come along', async () => {
  const dir = project({
    'compose.yaml': `services:
  foo: {image: foo}
  bar: {image: bar, profiles: [test]}
  baz: {image: baz, profiles: [test], depends_on: [bar]}
  zot: {image: zot, profiles: [debug], depends_on: [bar]}
`,
  });
  assert.deepEqual(Object.keys((await load(dir, { services: ['baz'] })).services).sort(), ['bar', 'baz', 'foo']);
  await assert.rejects(load(dir, { services: ['zot'] }), { message: 'service "zot" depends on undefined service "bar": invalid compose project' });
  assert.deepEqual(Object.keys((await load(dir, { services: ['zot'], profiles: ['test'] })).services).sort(), ['bar', 'baz', 'foo', 'zot']);
  await assert.rejects(load(dir, { services: ['nope'] }), { message: 'no such service: nope' });
});

test('schema errors name the offending path in one line, worded like compose', async () => {
  const cases: Array<[string, string]> = [
    ['services:\n  web:\n    image: x\n    foo: 1\n', "services.web additional properties 'foo' not allowed"],
    ['servics:\n  web:\n    image: x\n', "additional properties 'servics' not allowed"],
    ['services:\n  web:\n    image: x\n    ports: [[80]]\n', 'services.web.ports.0 must be a number, string or mapping'],
    ['services:\n  web:\n    image: x\n    environment: 3\n', 'services.web.environment must be a mapping or list'],
    ['services:\n  web:\n    image: [x]\n', 'services.web.image must be a string'],
  ];
  for (const [yaml, message] of cases) {
    const dir = project({ 'compose.yaml': yaml });
    await assert.rejects(load(dir), { message: `validating ${join(dir, 'compose.yaml')}: ${message}` });
  }
});

test('an interpolation error inside a list names the list', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    environment:\n      - "A=${B"\n' });
  await assert.rejects(load(dir), { message: /^invalid interpolation format for services\.web\.environment\.\[\]\./ });
});

test('env_file format raw takes values literally; bare build args come from the environment', async () => {
  const dir = project({
    'raw.env': 'A="quoted" ${X}\n# c\nB=b\n',
    'compose.yaml': 'services:\n  web:\n    build:\n      context: .\n      args: [VERSION, FIXED=1, NOPE]\n    env_file: [{path: raw.env, format: raw}]\n',
  });
  const p = await load(dir, { env: { VERSION: '3' } });
  assert.deepEqual(p.services.web.environment, { A: '"quoted" ${X}', B: 'b' });
  assert.deepEqual((p.services.web.build as { args: unknown }).args, { VERSION: '3', FIXED: '1', NOPE: null });
});

test('links, network_mode service: and volumes_from add dependencies', async () => {
  const dir = project({
    'compose.yaml': 'services:\n  a: {image: x}\n  b: {image: x}\n  c: {image: x}\n  web:\n    image: x\n    links: ["a:alias"]\n    network_mode: "service:b"\n    volumes_from: ["c:ro", "container:other"]\n',
  });
  const p = await load(dir);
  const started = { condition: 'service_started', restart: true, required: true };
  assert.deepEqual(p.services.web.depends_on, { a: started, b: started, c: started });
  assert.equal(p.services.web.networks, undefined);
  const bad = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    network_mode: "service:nope"\n' });
  await assert.rejects(load(bad), { message: 'service "web" depends on undefined service "nope": invalid compose project' });
});
