import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bytesSize, formatGoDuration, fromHumanSize, getTimestamp, humanDuration, humanSize,
  humanSizeWithPrecision, parseGoDuration, parseTimestamp, ramInBytes,
} from '../../src/common/units.js';
import { containerStatusText } from '../../src/common/container-status.js';

test('humanSize: decimal units, 4 significant digits', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(4096), '4.096kB');
  assert.equal(humanSize(1234567), '1.235MB');
  assert.equal(humanSize(999999), '1000kB');
  assert.equal(humanSize(1e12), '1TB');
});

test('humanSizeWithPrecision 3 (docker ps/images SIZE), including Go %g exponent form', () => {
  assert.equal(humanSizeWithPrecision(4261550, 3), '4.26MB');
  assert.equal(humanSizeWithPrecision(999, 3), '999B');
  assert.equal(humanSizeWithPrecision(999900, 3), '1e+03kB');
  assert.equal(humanSizeWithPrecision(77800000, 3), '77.8MB');
});

test('bytesSize: binary units', () => {
  assert.equal(bytesSize(1572864), '1.5MiB');
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(512), '512B');
});

test('humanDuration matches go-units texts', () => {
  const s = 1000;
  const h = 3600 * s;
  const cases: [number, string][] = [
    [0, 'Less than a second'], [999, 'Less than a second'], [1 * s, '1 second'], [3 * s, '3 seconds'],
    [59 * s, '59 seconds'], [60 * s, 'About a minute'], [119 * s, 'About a minute'], [3 * 60 * s, '3 minutes'],
    [59 * 60 * s, '59 minutes'], [60 * 60 * s, 'About an hour'], [89 * 60 * s, 'About an hour'],
    [90 * 60 * s, '2 hours'], [3 * h, '3 hours'], [47 * h, '47 hours'], [48 * h, '2 days'],
    [13 * 24 * h, '13 days'], [14 * 24 * h, '2 weeks'], [59 * 24 * h, '8 weeks'], [60 * 24 * h, '2 months'],
    [4 * 30 * 24 * h, '4 months'], [2 * 365 * 24 * h, '2 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `for ${ms}ms`);
});

test('ramInBytes and fromHumanSize', () => {
  assert.equal(ramInBytes('512m'), 512 * 1024 * 1024);
  assert.equal(ramInBytes('1g'), 1024 ** 3);
  assert.equal(ramInBytes('1.5GiB'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('100'), 100);
  assert.equal(ramInBytes('32 kb'), 32 * 1024);
  assert.equal(fromHumanSize('1kB'), 1000);
  assert.equal(fromHumanSize('2.5M'), 2500000);
  assert.throws(() => ramInBytes('abc'), { message: "invalid size: 'abc'" });
  assert.throws(() => ramInBytes('1x'), { message: "invalid suffix: 'x'" });
  assert.throws(() => ramInBytes('-1'), { message: "invalid size: '-1'" });
  assert.throws(() => ramInBytes('1.2.3m'), { message: 'strconv.ParseFloat: parsing "1.2.3": invalid syntax' });
});

test('Go durations: parse and format', () => {
  assert.equal(parseGoDuration('1m30s'), 90000);
  assert.equal(parseGoDuration('500ms'), 500);
  assert.equal(parseGoDuration('1h'), 3600000);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('-2m'), -120000);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('x'), { message: 'time: invalid duration "x"' });
  assert.throws(() => parseGoDuration('10'), { message: 'time: missing unit in duration "10"' });
  assert.throws(() => parseGoDuration('1d'), { message: 'time: unknown unit "d" in duration "1d"' });
  assert.equal(formatGoDuration(3723000), '1h2m3s');
  assert.equal(formatGoDuration(7200000), '2h0m0s');
  assert.equal(formatGoDuration(1500), '1.5s');
  assert.equal(formatGoDuration(500), '500ms');
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(0.001), '1µs');
});

test('--since/--until timestamps as docker-cli sends them', () => {
  const now = new Date('2024-01-01T00:00:00Z');
  assert.equal(getTimestamp('10m', now), '1704066600');
  assert.equal(parseTimestamp('1h', now), 1704067200 - 3600);
  assert.equal(getTimestamp('2024-01-01T00:00:00Z', now), '1704067200.000000000');
  assert.equal(getTimestamp('2006-01-02T15:04:05.123456789+07:00', now), '1136189045.123456789');
  assert.equal(getTimestamp('1700000000.5', now), '1700000000.5');
  assert.equal(parseTimestamp('1700000000', now), 1700000000);
  assert.throws(() => getTimestamp('tomorrow', now), { message: 'failed to parse value as time or duration: "tomorrow"' });
});

test('container status texts as dockerd writes them', () => {
  const now = new Date('2024-01-01T00:00:10Z');
  const started = '2024-01-01T00:00:07Z';
  assert.equal(containerStatusText({ status: 'running', exitCode: 0, startedAt: started }, now), 'Up 3 seconds');
  assert.equal(containerStatusText({ status: 'paused', exitCode: 0, startedAt: started }, now), 'Up 3 seconds (Paused)');
  assert.equal(containerStatusText({ status: 'running', exitCode: 0, startedAt: started, health: 'healthy' }, now), 'Up 3 seconds (healthy)');
  assert.equal(containerStatusText({ status: 'running', exitCode: 0, startedAt: started, health: 'starting' }, now), 'Up 3 seconds (health: starting)');
  assert.equal(
    containerStatusText({ status: 'exited', exitCode: 0, startedAt: started, finishedAt: '2024-01-01T00:00:08Z' }, now),
    'Exited (0) 2 seconds ago',
  );
  assert.equal(
    containerStatusText({ status: 'restarting', exitCode: 1, startedAt: started, finishedAt: '2024-01-01T00:00:05Z' }, now),
    'Restarting (1) 5 seconds ago',
  );
  assert.equal(containerStatusText({ status: 'created', exitCode: 0, startedAt: '0001-01-01T00:00:00Z' }, now), 'Created');
  assert.equal(containerStatusText({ status: 'dead', exitCode: 0 }, now), 'Dead');
  assert.equal(containerStatusText({ status: 'removing', exitCode: 0 }, now), 'Removal In Progress');
});
