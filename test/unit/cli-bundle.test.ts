// The bundled CLI (npm run build: <out>/berth-cli.cjs) behaves as the module tree does, keeps its
// code cache where XDG_CACHE_HOME says, and falls back to the module tree when tsc rebuilt after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BERTH_BUNDLE, BERTH_MAIN, REPO } from '../helpers/daemon.js';

const skip = fs.existsSync(BERTH_BUNDLE) ? false : 'no bundle in this tree (built by plain tsc)';

function cli(entry: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  // no daemon answers here: commands that need one fail the same way in both entries
  const r = spawnSync(process.execPath, [entry, ...args], {
    env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/berth.sock', BERTH_HOST: '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the bundle prints what the module tree prints, exit codes included', { skip }, () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-cache-'));
  try {
    for (const args of [['--version'], ['--help'], ['image', '--help'], ['run', '--help'], ['nosuchcommand'], ['ps'], ['compose', 'version']]) {
      assert.deepEqual(cli(BERTH_BUNDLE, args, { XDG_CACHE_HOME: cache }), cli(BERTH_MAIN, args), args.join(' '));
    }
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('the code cache is written under XDG_CACHE_HOME once per command, and not at all when off', { skip }, () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-cache-'));
  try {
    const dir = path.join(cache, 'berth', 'cli');
    assert.equal(cli(BERTH_BUNDLE, ['--version'], { XDG_CACHE_HOME: cache, BERTH_CLI_CACHE: 'off' }).code, 0);
    assert.equal(fs.existsSync(dir), false);
    assert.equal(cli(BERTH_BUNDLE, ['--version'], { XDG_CACHE_HOME: cache }).code, 0);
    const files = fs.readdirSync(dir).sort();
    assert.equal(files.length, 2);
    assert.match(files[0]!, /^[0-9a-f]{8}\.commands$/);
    assert.match(files[1]!, /^[0-9a-f]{8}\.v8cache$/);
    const data = path.join(dir, files[1]!);
    const written = fs.statSync(data).mtimeMs;
    assert.equal(cli(BERTH_BUNDLE, ['--version'], { XDG_CACHE_HOME: cache }).stdout, cli(BERTH_MAIN, ['--version']).stdout);
    assert.equal(fs.statSync(data).mtimeMs, written, 'a command seen before does not rewrite the cache');
    assert.equal(cli(BERTH_BUNDLE, ['image', 'ls', '--help'], { XDG_CACHE_HOME: cache }).code, 0);
    assert.deepEqual(fs.readFileSync(path.join(dir, files[0]!), 'utf8').split('\n').filter(Boolean), ['-', 'image ls']);
    // a cache V8 rejects (here: garbage) only costs the compile, and is replaced
    fs.writeFileSync(data, 'not a code cache');
    assert.equal(cli(BERTH_BUNDLE, ['--version'], { XDG_CACHE_HOME: cache }).code, 0);
    assert.notEqual(fs.readFileSync(data, 'utf8'), 'not a code cache');
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('bin/berth keeps NODE_EXTRA_CA_CERTS from node\'s start-up but hands it on to what the user runs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-env-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'compose.yaml'),
      'services:\n  app:\n    image: busybox\n    environment:\n      CA: ${NODE_EXTRA_CA_CERTS:-unset}\n      SAVED: ${BERTH_NODE_EXTRA_CA_CERTS:-unset}\n',
    );
    const run = (env: NodeJS.ProcessEnv) =>
      spawnSync(path.join(REPO, 'bin/berth'), ['compose', '-f', path.join(dir, 'compose.yaml'), 'config', '--format', 'json'], {
        env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/berth.sock', ...env },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const withCa = run({ NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' });
    assert.equal(withCa.status, 0, withCa.stderr);
    // node itself would warn that it cannot read the file, had it seen the variable at start-up
    assert.doesNotMatch(withCa.stderr, /extra-ca\.pem/);
    assert.deepEqual(JSON.parse(withCa.stdout).services.app.environment, { CA: '/nonexistent/extra-ca.pem', SAVED: 'unset' });
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const without = spawnSync(path.join(REPO, 'bin/berth'), ['compose', '-f', path.join(dir, 'compose.yaml'), 'config', '--format', 'json'], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(without.status, 0, without.stderr);
    assert.deepEqual(JSON.parse(without.stdout).services.app.environment, { CA: 'unset', SAVED: 'unset' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
