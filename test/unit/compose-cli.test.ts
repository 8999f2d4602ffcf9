// berth compose config end to end through the CLI's dispatcher (no daemon needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli/app.js';
import { hoistComposeFlags } from '../../src/cli/commands/compose_flags.js';
import { project } from './compose-helpers.js';

async function cli(argv: string[], env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const code = await runCli(argv, { stdout, stderr, stdin, env });
  return { code, out, err };
}

const FILE = `services:
  web:
    image: "nginx:\${TAG:-latest}"
    depends_on: [db]
    profiles: [front]
  db:
    image: postgres
    volumes: [pg:/var/lib/postgresql/data]
  tools:
    image: busybox
    profiles: [debug, front]
volumes:
  pg: {}
  cache: {}
`;

test('compose flags before the subcommand move after it', () => {
  assert.deepEqual(hoistComposeFlags(['-f', 'a.yml', '--project-name=x', '-pq', 'config', '--services']), ['config', '--file=a.yml', '--project-name=x', '--project-name=q', '--services']);
  // after the subcommand a short letter may be its own flag: `compose -f x.yml logs -f`
  assert.deepEqual(hoistComposeFlags(['-f', 'x.yml', 'logs', '-f']), ['logs', '--file=x.yml', '-f']);
  assert.deepEqual(hoistComposeFlags(['config']), ['config']);
});

test('berth compose config prints the model; -f/-p before or after config', async () => {
  const dir = project({ 'x.yaml': FILE });
  const a = await cli(['compose', '-f', join(dir, 'x.yaml'), '-p', 'demo', '--profile', 'front', 'config']);
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /^name: demo\nservices:\n  db:\n/);
  assert.match(a.out, /image: nginx:latest/);
  assert.match(a.out, /\n  tools:\n/);
  const b = await cli(['compose', 'config', '--file', join(dir, 'x.yaml'), '--project-name', 'demo', '--profile=front']);
  assert.equal(b.out, a.out);
});

test('--services, --volumes, --profiles, --images, --format json, -q, --no-interpolate, --profile, -o', async () => {
  const dir = project({ 'compose.yaml': FILE });
  const base = ['compose', '--project-directory', dir];
  assert.equal((await cli([...base, 'config', '--services'])).out, 'db\n');
  assert.equal((await cli([...base, '--profile', 'front', 'config', '--services'])).out, 'db\ntools\nweb\n');
  assert.equal((await cli([...base, 'config', '--services'], { COMPOSE_PROFILES: 'debug' })).out, 'db\ntools\n');
  assert.equal((await cli([...base, 'config', '--volumes'])).out, 'cache\npg\n');
  assert.equal((await cli([...base, 'config', '--profiles'])).out, 'debug\nfront\n');
  assert.equal((await cli([...base, '--profile', 'front', 'config', '--images'], { TAG: '1.25' })).out, 'postgres\nbusybox\nnginx:1.25\n');
  const json = await cli([...base, '--profile', 'front', 'config', '--format', 'json'], { TAG: '1.25' });
  assert.equal(JSON.parse(json.out).services.web.image, 'nginx:1.25');
  const raw = await cli([...base, '--profile', 'front', 'config', '--no-interpolate'], { TAG: '1.25' });
  assert.match(raw.out, /image: nginx:\$\{TAG:-latest\}/);
  const quiet = await cli([...base, 'config', '-q']);
  assert.deepEqual([quiet.code, quiet.out], [0, '']);
  const out = join(dir, 'out.yaml');
  await cli([...base, 'config', '-o', out]);
  assert.match(readFileSync(out, 'utf8'), /^name: proj\n/);
  const one = await cli([...base, '--profile', 'front', 'config', '--services', 'web']);
  assert.equal(one.out, 'db\nweb\n');
});

test('errors exit 1 with compose\'s message', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on: [db]\n' });
  const r = await cli(['compose', '--project-directory', dir, 'config']);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'service "web" depends on undefined service "db": invalid compose project\n');
  const bad = await cli(['compose', '-p', 'UPPER', '--project-directory', dir, 'config', '-q']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^invalid project name "UPPER"/);
  const schema = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    ports: [[80]]\n' });
  const s = await cli(['compose', '--project-directory', schema, 'config']);
  assert.equal(s.err, `validating ${join(schema, 'compose.yaml')}: services.web.ports.0 must be a number, string or mapping\n`);
});

test('literal dollars print doubled so the output loads again; unset variables warn', async () => {
  const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x$UNSET_ONE\n    command: echo $$HOME ${UNSET_ONE}\n    environment: {P: "a$$b"}\n' });
  const r = await cli(['compose', '--project-directory', dir, 'config']);
  assert.equal(r.code, 0);
  assert.match(r.out, /      - \$\$HOME\n/);
  assert.match(r.out, /P: a\$\$b\n/);
  assert.equal(r.err, 'WARN[0000] The "UNSET_ONE" variable is not set. Defaulting to a blank string.\n');
});
