import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logFiles, logSettings, parseLogSize, resolveLogConfig, shiftLogFiles } from '../../src/daemon/system/log-driver.js';
import { LogFollower } from '../../src/daemon/system/log-reader.js';
import { cgroupRules } from '../../src/daemon/system/devices.js';

const daemonDefault = { type: 'json-file', opts: {} as Record<string, string> };

test('resolveLogConfig: daemon default type and options, dockerd\'s errors', () => {
  assert.deepEqual(resolveLogConfig(undefined, daemonDefault), { Type: 'json-file', Config: {} });
  assert.deepEqual(resolveLogConfig({ Type: '', Config: { 'max-size': '1m' } }, daemonDefault), { Type: 'json-file', Config: { 'max-size': '1m' } });
  const dd = { type: 'local', opts: { 'max-size': '5k' } };
  assert.deepEqual(resolveLogConfig({ Type: '' }, dd), { Type: 'local', Config: { 'max-size': '5k' } });
  assert.deepEqual(resolveLogConfig({ Type: 'local', Config: { 'max-size': '9k' } }, dd), { Type: 'local', Config: { 'max-size': '9k' } });
  assert.deepEqual(resolveLogConfig({ Type: 'json-file' }, dd), { Type: 'json-file', Config: {} });
  assert.deepEqual(resolveLogConfig({ Type: 'none', Config: { anything: 'x' } }, daemonDefault), { Type: 'none', Config: { anything: 'x' } });
  assert.throws(() => resolveLogConfig({ Type: 'syslog' }, daemonDefault), /^Error: logger: no log driver named 'syslog' is registered$/);
  assert.throws(() => resolveLogConfig({ Type: 'json-file', Config: { x: '1' } }, daemonDefault), /unknown log opt 'x' for json-file log driver/);
  assert.throws(() => resolveLogConfig({ Type: 'local', Config: { tag: '1' } }, daemonDefault), /unknown log opt 'tag' for log driver local/);
  assert.throws(() => resolveLogConfig({ Config: { 'max-file': 'two' } }, daemonDefault), /strconv.Atoi: parsing "two": invalid syntax/);
  assert.throws(() => resolveLogConfig({ Config: { 'max-size': '0' } }, daemonDefault), /max-size must be a positive number/);
});

test('logSettings: json-file unlimited by default, local 20m x 5, max-file needs max-size', () => {
  assert.deepEqual(logSettings({ Type: 'json-file', Config: {} }), { driver: 'json-file', maxSize: 0, maxFiles: 1 });
  assert.deepEqual(logSettings({ Type: 'json-file', Config: { 'max-file': '3' } }), { driver: 'json-file', maxSize: 0, maxFiles: 1 });
  assert.deepEqual(logSettings({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } }), { driver: 'json-file', maxSize: 10_000_000, maxFiles: 3 });
  assert.deepEqual(logSettings({ Type: 'local', Config: {} }), { driver: 'local', maxSize: 20 * 1024 * 1024, maxFiles: 5 });
  assert.equal(parseLogSize('1k'), 1000);
  assert.equal(parseLogSize('1.5MB'), 1_500_000);
  assert.equal(parseLogSize('2KiB'), 2000);
  assert.throws(() => parseLogSize('lots'), /invalid size: 'lots'/);
});

test('shiftLogFiles + LogFollower: a reader sees every line once across rotations', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logrot-'));
  try {
    const f = path.join(dir, 'c-json.log');
    const line = (n: number) => `2026-01-01T00:00:00.000000000Z stdout F ${n}\n`;
    fs.writeFileSync(f, line(1) + line(2));
    const r = new LogFollower(f, logFiles(f).slice(0, -1));
    assert.deepEqual((await r.read()).map((e) => e.text), ['1\n', '2\n']);
    // The writer keeps its descriptor: lines after the rename land in the rotated file.
    const w = fs.openSync(f, 'a');
    await shiftLogFiles(f, 3);
    fs.writeSync(w, line(3));
    fs.closeSync(w);
    fs.writeFileSync(f, line(4)); // the reopened file
    assert.deepEqual((await r.read()).map((e) => e.text), ['3\n', '4\n']);
    fs.appendFileSync(f, line(5) + '2026-01-01T00:00:00Z stdout P par');
    assert.deepEqual((await r.read()).map((e) => e.text), ['5\n']);
    await shiftLogFiles(f, 3);
    fs.writeFileSync(f, line(6));
    await shiftLogFiles(f, 3); // .2 (lines 1-3) falls off
    fs.writeFileSync(f, '');
    assert.deepEqual(logFiles(f).map((p) => path.basename(p)), ['c-json.log.2', 'c-json.log.1', 'c-json.log']);
    await r.close();
    const all = new LogFollower(f, logFiles(f).slice(0, -1));
    assert.deepEqual((await all.read()).map((e) => e.text), ['4\n', '5\n', '6\n']);
    await all.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cgroupRules: dockerd\'s grammar', () => {
  assert.deepEqual(cgroupRules(['c 1:3 mr', 'a *:* rwm', 'b 8:* r']), [
    { allow: true, type: 'c', major: 1, minor: 3, access: 'mr' },
    { allow: true, type: 'a', access: 'rwm' },
    { allow: true, type: 'b', major: 8, access: 'r' },
  ]);
  assert.throws(() => cgroupRules(['c 1:3']), /^Error: invalid device cgroup rule format: 'c 1:3'$/);
});

test('berthd --log-driver/--log-opt and daemon.json log-driver/log-opts', async () => {
  const { buildConfig } = await import('../../src/daemon/daemon-flags.js');
  const flags = buildConfig(['--config-file', '/dev/null', '--log-driver', 'local', '--log-opt', 'max-size=5k', '--log-opt', 'max-file=2']).cfg;
  assert.deepEqual(flags.log, { driver: 'local', opts: { 'max-size': '5k', 'max-file': '2' } });
  assert.deepEqual(buildConfig(['--config-file', '/dev/null']).cfg.log, { driver: 'json-file', opts: {} });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logcfg-'));
  try {
    const file = path.join(dir, 'daemon.json');
    fs.writeFileSync(file, JSON.stringify({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } }));
    assert.deepEqual(buildConfig(['--config-file', file]).cfg.log, { driver: 'json-file', opts: { 'max-size': '10m', 'max-file': '3' } });
    assert.throws(() => buildConfig(['--config-file', file, '--log-driver', 'local']), /specified both as a flag and in the configuration file: log-driver/);
    fs.writeFileSync(file, JSON.stringify({ 'log-driver': 'gelf' }));
    assert.throws(() => buildConfig(['--config-file', file]), /failed to set log opts: logger: no log driver named 'gelf' is registered/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('LogFollower with a tail reads only the newest files it needs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logtail-'));
  try {
    const f = path.join(dir, 'c-json.log');
    const line = (n: number) => `2026-01-01T00:00:00.000000000Z stdout F ${n}\n`;
    fs.writeFileSync(`${f}.2`, line(1) + line(2));
    fs.writeFileSync(`${f}.1`, line(3) + line(4));
    fs.writeFileSync(f, line(5));
    const texts = async (tail?: number) => {
      const r = new LogFollower(f, logFiles(f).slice(0, -1), tail);
      try {
        return (await r.read()).map((e) => e.text.trim());
      } finally {
        await r.close();
      }
    };
    assert.deepEqual(await texts(1), ['5']);
    assert.deepEqual(await texts(2), ['3', '4', '5']);
    assert.deepEqual(await texts(4), ['1', '2', '3', '4', '5']);
    assert.deepEqual(await texts(), ['1', '2', '3', '4', '5']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
