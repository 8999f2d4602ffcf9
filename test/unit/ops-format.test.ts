import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statsEntry } from '../../src/cli/format/stats.js';
import { EventRow, prettyEvent, rfc3339NanoFixed } from '../../src/cli/format/events.js';
import { renderTemplate } from '../../src/common/gotemplate/index.js';

test('stats: docker CLI computations (CPU delta, memory without inactive file, I/O sums)', () => {
  const e = statsEntry('c1', {
    name: '/web',
    id: 'abc',
    cpu_stats: { cpu_usage: { total_usage: 3_000_000, percpu_usage: [1, 2] }, system_cpu_usage: 20_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 10_000_000 },
    memory_stats: { usage: 10_000, limit: 100_000, stats: { total_inactive_file: 2_000 } },
    networks: { eth0: { rx_bytes: 5, tx_bytes: 7 }, eth1: { rx_bytes: 1, tx_bytes: 1 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 10 }, { op: 'Write', value: 4 }, { op: 'read', value: 1 }] },
    pids_stats: { current: 4 },
  });
  assert.equal(e.cpuPercentage, 40);
  assert.equal(e.memory, 8_000);
  assert.equal(e.memoryPercentage, 8);
  assert.deepEqual([e.networkRx, e.networkTx, e.blockRead, e.blockWrite, e.pidsCurrent, e.name], [6, 8, 11, 4, 4, 'web']);
});

test('events: docker\'s default line (fixed nanoseconds, sorted attributes) and template fields', () => {
  const ev = {
    status: 'start',
    id: 'abc',
    from: 'busybox',
    Type: 'container',
    Action: 'start',
    Actor: { ID: 'abc', Attributes: { name: 'x', image: 'busybox' } },
    scope: 'local',
    time: 1795430000,
    // A double holds nanoseconds since the epoch to 256 ns: use a representable value.
    timeNano: 1795430000000001024,
  };
  if (new Date(1795430000000).getTimezoneOffset() === 0) assert.equal(rfc3339NanoFixed(1795430000000000001n), '2026-11-23T10:33:20.000000001Z');
  assert.match(prettyEvent(ev), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000001\d{3}(Z|[+-]\d\d:\d\d) container start abc \(image=busybox, name=x\)\n$/);
  assert.equal(renderTemplate('{{.Status}} {{.ID}} {{.From}} {{.Actor.Attributes.name}} {{.Scope}}', new EventRow(ev)), 'start abc busybox x local');
  assert.equal(renderTemplate('{{json .}}', new EventRow({ Type: 'image', Action: 'tag', Actor: { ID: 'i', Attributes: {} }, scope: 'local', time: 1, timeNano: 2 })),
    '{"Type":"image","Action":"tag","Actor":{"ID":"i","Attributes":{}},"scope":"local","time":1,"timeNano":2}');
});
