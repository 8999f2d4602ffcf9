import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseArgs } from '../../src/cli/flags.js';
import { command as createCmd } from '../../src/cli/commands/create.js';
import { buildCreateRequest } from '../../src/cli/containeropts.js';

function body(argv: string[]) {
  const p = parseArgs(createCmd.spec, 'berth create', [...argv, 'busybox']);
  return buildCreateRequest(p.flags, p.args, {}, false).body as any;
}

test('-v goes to Config.Volumes only without a colon; everything else to Binds, as docker-cli sends it', () => {
  const b = body(['-v', '/anon', '-v', '/data:ro', '-v', 'name:/n', '-v', '/h:/c:ro,z']);
  assert.deepEqual(b.Volumes, { '/anon': {} });
  assert.deepEqual(b.HostConfig.Binds, ['/data:ro', 'name:/n', '/h:/c:ro,z']);
});

test('a host part starting with "." is made absolute, for -v and --mount', () => {
  const b = body(['-v', './src:/app', '--mount', 'type=bind,source=./x,target=/x', '--mount', 'type=bind,src=rel,dst=/r']);
  assert.deepEqual(b.HostConfig.Binds, [`${path.resolve('src')}:/app`]);
  assert.equal(b.HostConfig.Mounts[0].Source, path.resolve('x'));
  // Other relative sources reach the daemon as written (it answers with docker's error).
  assert.equal(b.HostConfig.Mounts[1].Source, 'rel');
});

test('--mount options become mount.Mount fields; --volumes-from is passed through', () => {
  const b = body(['--mount', 'type=volume,source=v,target=/v,volume-nocopy,volume-opt=type=tmpfs,volume-label=a=b', '--mount', 'type=tmpfs,target=/t,tmpfs-mode=1770', '--volumes-from', 'db:ro']);
  assert.deepEqual(b.HostConfig.Mounts[0], { Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { NoCopy: true, DriverConfig: { Options: { type: 'tmpfs' } }, Labels: { a: 'b' } } });
  assert.deepEqual(b.HostConfig.Mounts[1], { Type: 'tmpfs', Target: '/t', TmpfsOptions: { Mode: 0o1770 } });
  assert.deepEqual(b.HostConfig.VolumesFrom, ['db:ro']);
});
