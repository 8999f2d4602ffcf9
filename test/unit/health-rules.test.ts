import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyResult, nextDelay, probeCommand } from '../../src/daemon/services/health-service.js';
import type { HealthState } from '../../src/daemon/stores/container-store.js';

const MS = 1e6; // ns per ms

test('probeCommand: CMD, CMD-SHELL (with the container shell), NONE and empty', () => {
  assert.deepEqual(probeCommand({ Test: ['CMD', 'curl', '-f', 'x'] }, null), ['curl', '-f', 'x']);
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'curl -f x || exit 1'] }, null), ['/bin/sh', '-c', 'curl -f x || exit 1']);
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'x'] }, ['/bin/bash', '-ec']), ['/bin/bash', '-ec', 'x']);
  assert.equal(probeCommand({ Test: ['NONE'] }, null), undefined);
  assert.equal(probeCommand({ Test: [] }, null), undefined);
  assert.equal(probeCommand(undefined, null), undefined);
  assert.equal(probeCommand({ Test: ['BOGUS', 'x'] }, null), undefined);
});

const started = '2026-01-01T00:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(started) + ms).toISOString();
const res = (ms: number, code: number) => ({ Start: at(ms), End: at(ms + 10), ExitCode: code, Output: '' });

test('applyResult: default 3 retries, success resets the streak, log keeps 5', () => {
  const h: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  assert.equal(applyResult(h, res(1000, 1), {}, started), false);
  assert.equal(applyResult(h, res(2000, 1), {}, started), false);
  assert.deepEqual([h.Status, h.FailingStreak], ['starting', 2]);
  assert.equal(applyResult(h, res(3000, 1), {}, started), true);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 3]);
  assert.equal(applyResult(h, res(4000, 0), {}, started), true);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
  for (let i = 0; i < 4; i++) applyResult(h, res(5000 + i, 0), {}, started);
  assert.equal(h.Log.length, 5);
  assert.equal(h.Log[0]!.Start, at(4000));
  // Any non-zero code (dockerd reserves 2, times out with -1) is a failure.
  const r = { Retries: 1 };
  assert.equal(applyResult(h, res(6000, -1), r, started), true);
  assert.equal(h.Status, 'unhealthy');
});

test('applyResult: failures inside the start period do not count while starting', () => {
  const hc = { StartPeriod: 10_000 * MS, Retries: 1 };
  const h: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  assert.equal(applyResult(h, res(5000, 1), hc, started), false);
  assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ['starting', 0, 1]);
  // Once healthy, the start period no longer shields failures.
  applyResult(h, res(6000, 0), hc, started);
  assert.equal(applyResult(h, res(7000, 1), hc, started), true);
  assert.equal(h.Status, 'unhealthy');
  // After the start period a failure counts.
  const h2: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  applyResult(h2, res(11_000, 1), hc, started);
  assert.equal(h2.Status, 'unhealthy');
});

test('nextDelay: defaults 30s, start interval (default 5s) while starting in the start period, never past its end', () => {
  const t0 = Date.parse(started);
  assert.equal(nextDelay({}, started, 'starting', t0), 30_000);
  assert.equal(nextDelay({ Interval: 200 * MS }, started, 'starting', t0), 200);
  assert.equal(nextDelay({ StartPeriod: 60_000 * MS }, started, 'starting', t0), 5_000);
  assert.equal(nextDelay({ StartPeriod: 60_000 * MS, StartInterval: 100 * MS }, started, 'starting', t0), 100);
  assert.equal(nextDelay({ StartPeriod: 60_000 * MS }, started, 'healthy', t0), 30_000);
  // 10 s left of the start period, a 30 s interval: probe when it ends.
  assert.equal(nextDelay({ StartPeriod: 60_000 * MS }, started, 'starting', t0 + 50_000), 10_000);
  assert.equal(nextDelay({ StartPeriod: 60_000 * MS }, started, 'starting', t0 + 61_000), 30_000);
});
