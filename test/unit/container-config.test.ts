import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeImageConfig, validateConfig, validateHostConfig } from '../../src/daemon/system/container-config.js';
import type { HostConfig } from '../../src/daemon/system/container-config.js';

const image = {
  User: 'app',
  Env: ['PATH=/image/bin', 'LANG=C.UTF-8'],
  Entrypoint: ['/entry.sh'],
  Cmd: ['serve'],
  WorkingDir: '/srv',
  StopSignal: 'SIGQUIT',
  Labels: { a: 'image', b: 'image' },
  ExposedPorts: { '80/tcp': {} },
  Volumes: { '/data': {} },
  Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 },
};

test('merge: env merged by key with the container winning', () => {
  const m = mergeImageConfig({ Env: ['PATH=/mine', 'X=1'] }, image);
  assert.deepEqual(m.Env, ['PATH=/mine', 'X=1', 'LANG=C.UTF-8']);
});

test('merge: image entrypoint and cmd inherited when the container sets neither', () => {
  const m = mergeImageConfig({}, image);
  assert.deepEqual(m.Entrypoint, ['/entry.sh']);
  assert.deepEqual(m.Cmd, ['serve']);
});

test('merge: a container cmd keeps the image entrypoint but drops the image cmd', () => {
  const m = mergeImageConfig({ Cmd: ['debug'] }, image);
  assert.deepEqual(m.Entrypoint, ['/entry.sh']);
  assert.deepEqual(m.Cmd, ['debug']);
});

test('merge: a container entrypoint drops the image cmd', () => {
  const m = mergeImageConfig({ Entrypoint: ['/bin/sh'] }, image);
  assert.deepEqual(m.Entrypoint, ['/bin/sh']);
  assert.equal(m.Cmd ?? null, null);
});

test('merge: user, workdir, stop signal inherited only when unset', () => {
  const a = mergeImageConfig({}, image);
  assert.equal(a.User, 'app');
  assert.equal(a.WorkingDir, '/srv');
  assert.equal(a.StopSignal, 'SIGQUIT');
  const b = mergeImageConfig({ User: 'root', WorkingDir: '/w', StopSignal: 'SIGTERM' }, image);
  assert.equal(b.User, 'root');
  assert.equal(b.WorkingDir, '/w');
  assert.equal(b.StopSignal, 'SIGTERM');
});

test('merge: labels, ports and volumes are unions, container labels win', () => {
  const m = mergeImageConfig(
    { Labels: { b: 'mine', c: 'mine' }, ExposedPorts: { '443/tcp': {} }, Volumes: { '/logs': {} } },
    image,
  );
  assert.deepEqual(m.Labels, { a: 'image', b: 'mine', c: 'mine' });
  assert.deepEqual(Object.keys(m.ExposedPorts ?? {}).sort(), ['443/tcp', '80/tcp']);
  assert.deepEqual(Object.keys(m.Volumes ?? {}).sort(), ['/data', '/logs']);
});

test('merge: healthcheck fields filled from the image when the container leaves them zero', () => {
  const m = mergeImageConfig({ Healthcheck: { Interval: 1e9 } }, image);
  assert.deepEqual(m.Healthcheck, { Test: ['CMD', 'true'], Interval: 1e9, Retries: 3, Timeout: undefined, StartPeriod: undefined, StartInterval: undefined });
});

test('merge: the inputs are not modified', () => {
  const cfg = { Env: ['X=1'] };
  mergeImageConfig(cfg, image);
  assert.deepEqual(cfg, { Env: ['X=1'] });
  assert.deepEqual(image.Env, ['PATH=/image/bin', 'LANG=C.UTF-8']);
});

const rejects = (hc: HostConfig, message: string, cpus = 2) =>
  assert.throws(() => validateHostConfig(hc, cpus), (err: Error & { status?: number }) => {
    assert.equal(err.message, message);
    assert.equal(err.status, 400);
    return true;
  });

test('host config: memory limits', () => {
  rejects({ Memory: 1024 * 1024 }, 'Minimum memory limit allowed is 6MB');
  rejects({ Memory: 64 << 20, MemorySwap: 32 << 20 }, 'Minimum memoryswap limit should be larger than memory limit, see usage');
  rejects({ MemorySwap: 64 << 20 }, 'You should always set the Memory limit when using Memoryswap limit, see usage');
  rejects({ MemoryReservation: 1 << 20 }, 'Minimum memory reservation allowed is 6MB');
  rejects({ Memory: 16 << 20, MemoryReservation: 32 << 20 }, 'Minimum memory limit can not be less than memory reservation limit, see usage');
  assert.doesNotThrow(() => validateHostConfig({ Memory: 64 << 20, MemorySwap: -1 }, 2));
});

test('host config: cpu options', () => {
  rejects({ NanoCpus: 3e9 }, 'Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
  rejects({ NanoCpus: 1e9, CpuPeriod: 50000 }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  rejects({ NanoCpus: 1e9, CpuQuota: 50000 }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  rejects({ CpuPeriod: 10 }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  rejects({ CpuQuota: 10 }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
  rejects({ CpusetCpus: '0-a' }, 'Invalid value 0-a for cpuset cpus');
  rejects({ CpusetCpus: '0,3' }, 'Requested CPUs are not available - requested 0,3, available: 0-1');
  assert.doesNotThrow(() => validateHostConfig({ NanoCpus: 1.5e9, CpusetCpus: '0-1' }, 2));
});

test('host config: restart policies', () => {
  rejects({ RestartPolicy: { Name: 'sometimes' } }, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
  rejects({ RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } }, "invalid restart policy: maximum retry count can only be used with 'on-failure'");
  rejects({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } }, 'invalid restart policy: maximum retry count cannot be negative');
  rejects({ AutoRemove: true, RestartPolicy: { Name: 'always' } }, "can't create 'AutoRemove' container with restart policy");
  assert.doesNotThrow(() => validateHostConfig({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 } }, 2));
  assert.doesNotThrow(() => validateHostConfig({ AutoRemove: true, RestartPolicy: { Name: 'no' } }, 2));
});

test('host config: other ranges', () => {
  rejects({ OomScoreAdj: 1001 }, 'Invalid value 1001, range for oom score adj is [-1000, 1000]');
  rejects({ ShmSize: -1 }, 'SHM size can not be less than 0');
  rejects({ IpcMode: 'bogus' }, 'invalid IPC mode: bogus');
  rejects({ Ulimits: [{ Name: 'nofiles', Soft: 1, Hard: 2 }] }, 'invalid ulimit type: nofiles');
});

test('config: relative working dir and short healthcheck interval are refused', () => {
  assert.throws(() => validateConfig({ WorkingDir: 'app' }), {
    message: "the working directory 'app' is invalid, it needs to be an absolute path",
  });
  assert.throws(() => validateConfig({ Healthcheck: { Interval: 1000 } }), {
    message: 'Interval in Healthcheck cannot be less than 1ms',
  });
  assert.doesNotThrow(() => validateConfig({ WorkingDir: '/app', Healthcheck: { Interval: 1e9 } }));
});
