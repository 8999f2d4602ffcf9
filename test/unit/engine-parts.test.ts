import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogLine, selectEntries, toRfc3339Nano, timeToSeconds } from '../../src/daemon/system/log-reader.js';
import { RestartPolicy } from '../../src/daemon/services/restart-policy.js';
import { signalNumber } from '../../src/daemon/system/signals.js';
import { Router, filtersQuery, boolQuery } from '../../src/daemon/api/router.js';
import { validateCreateBody } from '../../src/daemon/api/validate-body.js';
import { frame, Demuxer } from '../../src/common/stdcopy.js';
import { runtimeMessage } from '../../src/daemon/system/runtime.js';
import { parseDetachKeys } from '../../src/daemon/services/attach.js';
import { commandString } from '../../src/daemon/services/container-service.js';
import { buildConfig } from '../../src/daemon/daemon-flags.js';

test('conmon k8s-file lines parse into stream, time and text; partial lines keep no newline', () => {
  const e = parseLogLine('2026-11-23T11:34:18.030409249+00:00 stdout F hello world')!;
  assert.equal(e.stream, 'stdout');
  assert.equal(e.text, 'hello world\n');
  assert.equal(toRfc3339Nano(e.time), '2026-11-23T11:34:18.030409249Z');
  const p = parseLogLine('2026-11-23T11:34:18.030409249+00:00 stderr P part')!;
  assert.equal(p.text, 'part');
  assert.equal(parseLogLine('garbage'), undefined);
  assert.ok(Math.abs(timeToSeconds('2026-11-23T11:34:18.5Z') - Date.parse('2026-11-23T11:34:18Z') / 1000 - 0.5) < 1e-6);
});

test('log selection: since, until and tail', () => {
  const mk = (s: number) => ({ time: '', seconds: s, stream: 'stdout' as const, text: `${s}\n` });
  const all = [mk(1), mk(2), mk(3), mk(4)];
  assert.deepEqual(selectEntries(all, { tail: 2 }).map((e) => e.seconds), [3, 4]);
  assert.deepEqual(selectEntries(all, { since: 2, until: 3 }).map((e) => e.seconds), [2, 3]);
  assert.deepEqual(selectEntries(all, { tail: 0 }), []);
});

test('restart policy: docker\'s rules and backoff', () => {
  const p = new RestartPolicy();
  const base = { exitCode: 1, manuallyStopped: false, restartCount: 0, ranMs: 50, key: 'a' };
  assert.equal(p.next({ Name: 'no' }, base), undefined);
  assert.equal(p.next({ Name: 'always' }, { ...base, manuallyStopped: true }), undefined);
  assert.equal(p.next({ Name: 'on-failure' }, { ...base, exitCode: 0 }), undefined);
  assert.equal(p.next({ Name: 'on-failure', MaximumRetryCount: 2 }, { ...base, restartCount: 2 }), undefined);
  assert.equal(p.next({ Name: 'always' }, base), 100);
  assert.equal(p.next({ Name: 'always' }, base), 200);
  assert.equal(p.next({ Name: 'always' }, base), 400);
  assert.equal(p.next({ Name: 'always' }, { ...base, ranMs: 10_000 }), 100, 'a long run resets the backoff');
  assert.equal(p.next({ Name: 'unless-stopped' }, { ...base, exitCode: 0, key: 'b' }), 100);
});

test('signals by name, short name, number; bad ones rejected', () => {
  assert.equal(signalNumber('SIGTERM'), 15);
  assert.equal(signalNumber('kill'), 9);
  assert.equal(signalNumber('HUP'), 1);
  assert.equal(signalNumber('10'), 10);
  assert.equal(signalNumber('SIGRTMIN+3'), 37);
  assert.throws(() => signalNumber('NOPE'), /Invalid signal: NOPE/);
  assert.throws(() => signalNumber('99'), /Invalid signal/);
});

test('router matches params, greedy image names, and reports wrong methods', () => {
  const r = new Router();
  const h = () => undefined;
  r.add('GET', '/containers/{id}/json', h);
  r.add('GET', '/images/{name*}/json', h);
  const m = r.match('GET', '/containers/abc/json');
  assert.ok(m && m !== 'method');
  assert.deepEqual(m.params, { id: 'abc' });
  const i = r.match('GET', '/images/localhost:5000/ns/app:1/json');
  assert.ok(i && i !== 'method');
  assert.deepEqual(i.params, { name: 'localhost:5000/ns/app:1' });
  assert.equal(r.match('POST', '/containers/abc/json'), 'method');
  assert.equal(r.match('GET', '/nothing'), undefined);
  assert.equal(r.match('HEAD', '/containers/x/json') !== undefined, true, 'HEAD served by GET');
});

test('filters and booleans parse as dockerd does', () => {
  const q = new URLSearchParams({ filters: '{"status":["running"],"label":{"a=b":true}}', all: '1', size: 'false' });
  const f = filtersQuery(q);
  assert.deepEqual(f.get('status'), ['running']);
  assert.deepEqual(f.get('label'), ['a=b']);
  assert.equal(boolQuery(q, 'all'), true);
  assert.equal(boolQuery(q, 'size'), false);
  assert.throws(() => filtersQuery(new URLSearchParams({ filters: '{bad' })), /invalid filter/);
});

test('create bodies: wrong types are 400 with Go\'s text, unknown fields are ignored', () => {
  validateCreateBody({ Image: 'busybox', Cmd: 'sh', Whatever: 1, HostConfig: { Memory: 1024, Unknown: 'x', OomKillDisable: null } });
  assert.throws(
    () => validateCreateBody({ Image: 'busybox', HostConfig: { Memory: 'lots' } }),
    /json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64/,
  );
  assert.throws(() => validateCreateBody({ Image: 5 }), /cannot unmarshal number 5 into Go struct field CreateRequest.Config.Image of type string/);
  assert.throws(() => validateCreateBody([1]), /cannot unmarshal array/);
});

test('stream framing round-trips through the demuxer in arbitrary chunks', () => {
  const data = Buffer.concat([frame(1, Buffer.from('out')), frame(2, Buffer.from('err!')), frame(1, Buffer.alloc(0))]);
  const got: Array<[number, string]> = [];
  const dm = new Demuxer((s, p) => got.push([s, p.toString()]));
  for (let i = 0; i < data.length; i += 3) dm.push(data.subarray(i, i + 3));
  assert.deepEqual(got, [[1, 'out'], [2, 'err!'], [1, '']]);
});

test('runc error output becomes the message users see', () => {
  assert.equal(
    runtimeMessage('time="2026-11-23T11:00:00Z" level=error msg="runc create failed: unable to start container process: exec: \\"nosuch\\": executable file not found in $PATH"\n'),
    'runc create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH',
  );
  assert.equal(runtimeMessage('{"level":"error","msg":"container not running","time":"x"}\n'), 'container not running');
});

test('detach keys parse docker\'s syntax', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('a,ctrl-@')], [97, 0]);
  assert.throws(() => parseDetachKeys('ctrl-pp'), /Invalid detach keys/);
});

test('the Command column joins path and args, quoting args with spaces', () => {
  assert.equal(commandString('sh', ['-c', 'echo hi']), "sh -c 'echo hi'");
  assert.equal(commandString('sleep', ['300']), 'sleep 300');
});

test('berthd flags: defaults, dockerd names, and clashes with the config file', () => {
  const { cfg } = buildConfig(['--config-file', '/dev/null']);
  assert.deepEqual(cfg.hosts, ['unix:///run/berth/berth.sock']);
  assert.equal(cfg.dataRoot, '/var/lib/berth');
  assert.equal(cfg.execRoot, '/run/berth');
  assert.equal(cfg.pidfile, '/run/berth/berthd.pid');
  const two = buildConfig(['--config-file', '/dev/null', '-H', 'unix:///tmp/a.sock', '--data-root=/tmp/d', '--exec-root', '/tmp/e', '--add-runtime', 'crun=/usr/bin/crun', '-D']).cfg;
  assert.deepEqual(two.hosts, ['unix:///tmp/a.sock']);
  assert.equal(two.pidfile, '/tmp/e/berthd.pid');
  assert.equal(two.runtimes.crun!.path, '/usr/bin/crun');
  assert.equal(two.logLevel, 'debug');
  assert.throws(() => buildConfig(['--config-file', '/dev/null', '--bogus']), /unknown flag: --bogus/);
  assert.throws(() => buildConfig(['--config-file', '/nonexistent/daemon.json']), /no such file or directory/);
});
