/**
 * A spec from buildSpec runs under the real runc: busybox rootfs, user lookup,
 * hostname, masked /proc paths, bound /etc/hosts, the memory cgroup limit and
 * the default seccomp profile all show from inside (or beside) the container.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildSpec, resolveArgs, serializeSpec } from '../../src/daemon/system/oci-spec.js';
import { hostsFile, hostnameFile } from '../../src/daemon/system/etc-files.js';

const run = promisify(execFile);
const RUNC = '/usr/sbin/runc';
const BUSYBOX = '/bin/busybox';
const canRun = process.getuid?.() === 0 && existsSync(RUNC) && existsSync(BUSYBOX);

async function makeRootfs(rootfs: string): Promise<void> {
  await mkdir(path.join(rootfs, 'bin'), { recursive: true });
  await mkdir(path.join(rootfs, 'etc'), { recursive: true });
  await copyFile(BUSYBOX, path.join(rootfs, 'bin/busybox'));
  for (const applet of ['sh', 'echo', 'id', 'cat', 'hostname', 'wc', 'unshare']) {
    await symlink('busybox', path.join(rootfs, 'bin', applet));
  }
  await writeFile(
    path.join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n',
  );
  await writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\nstaff:x:50:nobody\nnogroup:x:65534:\n');
}

/** Remove what runc may leave in each cgroup hierarchy, innermost first. */
async function removeCgroups(parent: string, id: string): Promise<void> {
  for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    for (const dir of [path.join('/sys/fs/cgroup', ctrl, parent, id), path.join('/sys/fs/cgroup', ctrl, parent)]) {
      await rmdir(dir).catch(() => undefined);
    }
  }
}

test('a busybox container from buildSpec runs under runc as docker would run it', { skip: !canRun && 'needs root, runc and busybox' }, async () => {
  const tmp = await mkdtemp(path.join(tmpdir(), 'berth-runc-'));
  const id = `berth-smoke-${process.pid}-${Date.now()}`;
  const cgroupParent = `berth-test-${process.pid}`;
  const stateRoot = path.join(tmp, 'state');
  const bundle = path.join(tmp, 'bundle');
  const rootfs = path.join(bundle, 'rootfs');
  let created = false;
  try {
    await makeRootfs(rootfs);
    await writeFile(path.join(tmp, 'hosts'), hostsFile({ hostname: 'smokehost', ip: '10.88.0.7' }));
    await writeFile(path.join(tmp, 'hostname'), hostnameFile('smokehost'));
    await writeFile(path.join(tmp, 'resolv.conf'), 'nameserver 8.8.8.8\n');

    const config = {
      Hostname: 'smokehost',
      User: 'nobody',
      Cmd: [
        'sh',
        '-c',
        'id; hostname; echo kcore=$(cat /proc/kcore | wc -c); cat /etc/hosts; ' +
          'unshare -U true 2>&1; echo unshare=$?',
      ],
    };
    const spec = await buildSpec({
      id,
      rootfs,
      config,
      hostConfig: { Memory: 64 * 1024 * 1024, NetworkMode: 'none' },
      args: resolveArgs(config),
      etcFiles: {
        hosts: path.join(tmp, 'hosts'),
        hostname: path.join(tmp, 'hostname'),
        resolvConf: path.join(tmp, 'resolv.conf'),
      },
      cgroupParent,
    });
    await writeFile(path.join(bundle, 'config.json'), serializeSpec(spec));

    // create, look at the cgroup from the host, then start: runc deletes the cgroup once the process exits.
    const child = spawn(RUNC, ['--root', stateRoot, 'create', '--bundle', bundle, id], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const outputDone = new Promise<void>((resolve) => child.stdout.on('close', () => resolve()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    created = code === 0;
    assert.equal(code, 0, `runc create failed: ${err}`);

    const limit = await readFile(path.join('/sys/fs/cgroup/memory', cgroupParent, id, 'memory.limit_in_bytes'), 'utf8');
    assert.equal(limit.trim(), String(64 * 1024 * 1024));

    await run(RUNC, ['--root', stateRoot, 'start', id]);
    await outputDone;

    // The kernel keeps supplementary groups sorted, so staff (50) is listed first.
    assert.match(out, /^uid=65534\(nobody\) gid=65534\(nogroup\) groups=50\(staff\),65534\(nogroup\)$/m);
    assert.match(out, /^smokehost$/m);
    assert.match(out, /^kcore=0$/m, 'masked /proc/kcore reads empty');
    assert.match(out, /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(out, /^10\.88\.0\.7\tsmokehost$/m);
    assert.match(out, /Operation not permitted/, 'seccomp refuses unshare');
    assert.match(out, /^unshare=1$/m);
  } finally {
    if (created) await run(RUNC, ['--root', stateRoot, 'delete', '--force', id]).catch(() => undefined);
    await removeCgroups(cgroupParent, id);
    await rm(tmp, { recursive: true, force: true });
  }
});
