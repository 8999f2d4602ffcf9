import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, StatusError } from '../../src/cli/flags.js';
import { command as createCmd } from '../../src/cli/commands/create.js';
import { command as runCmd } from '../../src/cli/commands/run.js';
import { buildCreateRequest, parsePortSpec, parseRestartPolicy } from '../../src/cli/containeropts.js';
import { createFixtures } from './cli-create-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
const envFile = join(dir, 'env.list');
const labelFile = join(dir, 'label.list');
writeFileSync(envFile, '# comment\n\nFOO\nBAR=baz\n  SPACE=x y \nEMPTY=\nQ="quoted"\n');
writeFileSync(labelFile, 'l1=v1\n# c\nl2\n');
const env = { HOME: '/root' };

function build(argv: string[], detached = false) {
  const p = parseArgs(createCmd.spec, 'berth create', argv);
  return buildCreateRequest(p.flags, p.args, env, detached);
}

for (const fx of createFixtures) {
  test(`create body matches docker's for: ${fx.argv.join(' ')}`, () => {
    const argv = fx.argv.map((a) => (a === 'ENVFILE' ? envFile : a === 'LABELFILE' ? labelFile : a));
    const req = build(argv);
    // docker-cli sends Env in Go map order (random); compare as sets
    const sortEnv = (b: Record<string, any>) => ({ ...b, Env: Array.isArray(b.Env) ? [...b.Env].sort() : b.Env });
    assert.deepEqual(sortEnv(req.body), sortEnv(fx.body));
    const name = new URL(fx.url, 'http://x').searchParams.get('name') ?? '';
    assert.equal(req.name, name);
  });
}

test('run -d turns off attaching; -a with -d conflicts', () => {
  const p = parseArgs(runCmd.spec, 'berth run', ['-d', 'busybox']);
  const req = buildCreateRequest(p.flags, p.args, env, true);
  assert.equal(req.body.AttachStdout, false);
  assert.equal(req.body.AttachStderr, false);
  const q = parseArgs(runCmd.spec, 'berth run', ['-d', '-a', 'stdout', 'busybox']);
  assert.throws(() => buildCreateRequest(q.flags, q.args, env, true), /Conflicting options: -a and -d/);
});

test('memory and cpu flags give docker errors at parse time, exit 125', () => {
  assert.throws(
    () => parseArgs(runCmd.spec, 'berth run', ['--cpus', 'abc', 'busybox']),
    (e: unknown) =>
      e instanceof StatusError && e.status === 125 &&
      e.message.startsWith('invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number'),
  );
  assert.throws(
    () => parseArgs(runCmd.spec, 'berth run', ['-m', '12x', 'busybox']),
    (e: unknown) => e instanceof StatusError && e.status === 125 && e.message.startsWith('invalid argument "12x" for "-m, --memory" flag: '),
  );
});

test('--cpus 1.5 is NanoCpus, --memory-swap -1 is unlimited', () => {
  const req = build(['--cpus', '1.5', '--memory-swap', '-1', '-m', '1g', 'busybox']);
  assert.equal(req.body.HostConfig.NanoCpus, 1_500_000_000);
  assert.equal(req.body.HostConfig.MemorySwap, -1);
  assert.equal(req.body.HostConfig.Memory, 1024 ** 3);
});

test('restart policy parsing', () => {
  assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(parseRestartPolicy('always'), { Name: 'always', MaximumRetryCount: 0 });
  assert.throws(() => parseRestartPolicy('on-failure:x'), /maximum retry count must be an integer/);
});

test('port specs expand ranges like nat.ParsePortSpec', () => {
  assert.deepEqual(parsePortSpec('127.0.0.1:8080:80/udp'), [{ port: '80/udp', HostIp: '127.0.0.1', HostPort: '8080' }]);
  assert.deepEqual(parsePortSpec('9000-9001:9000-9001').map((p) => p.port), ['9000/tcp', '9001/tcp']);
  assert.deepEqual(parsePortSpec('8000-8010:80'), [{ port: '80/tcp', HostIp: '', HostPort: '8000-8010' }]);
  assert.deepEqual(parsePortSpec('[::1]:80:80'), [{ port: '80/tcp', HostIp: '::1', HostPort: '80' }]);
});

test('-e and --env-file merge by name, the last value wins', () => {
  const req = build(['--env-file', envFile, '-e', 'BAR=override', '-e', 'A=1', '-e', 'A=2', 'busybox']);
  assert.deepEqual(req.body.Env, ['SPACE=x y ', 'EMPTY=', 'Q="quoted"', 'BAR=override', 'A=2']);
});

test('a missing env file is reported with its path', () => {
  assert.throws(() => build(['--env-file', join(dir, 'nope'), 'busybox']), /open .*nope: no such file or directory/);
});
