import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, parseVolumesFrom, planMounts, tmpfsData, validMountMode, validateMount, type PlanInput } from '../../src/daemon/services/mount-spec.js';
import type { MountPointRecord } from '../../src/daemon/stores/volume-store.js';

const msg = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

function plan(over: Partial<PlanInput> & { hostConfig: PlanInput['hostConfig'] }) {
  return planMounts({
    volumes: {},
    imageOnlyVolumes: new Set(),
    skipImageVolumes: false,
    volumesFrom: (ref) => {
      throw new Error(`No such container: ${ref}`);
    },
    exists: () => true,
    ...over,
  });
}

test('-v specs become bind or volume mount points with docker\'s mode, RW and propagation', () => {
  assert.deepEqual(parseBind('/host:/ctr').point, { Type: 'bind', Source: '/host', Destination: '/ctr', Mode: '', RW: true, Propagation: 'rprivate', CreateSource: true });
  assert.deepEqual(parseBind('/host/:/ctr/:ro,rshared').point, { Type: 'bind', Source: '/host', Destination: '/ctr', Mode: 'ro,rshared', RW: false, Propagation: 'rshared', CreateSource: true });
  const v = parseBind('data:/var/lib/db:nocopy');
  assert.deepEqual(v.point, { Type: 'volume', Name: 'data', Source: '', Destination: '/var/lib/db', Driver: 'local', Mode: 'nocopy', RW: true, Propagation: '', CopyData: false, Anonymous: false });
  assert.equal(v.volume?.name, 'data');
  const anon = parseBind('/data');
  assert.equal(anon.point.Anonymous, true);
  assert.equal(anon.point.CopyData, true);
  assert.equal(anon.volume?.name, undefined);
  assert.equal(parseBind('/h:/c:z').point.Mode, 'z');
});

test('bad -v specs give dockerd\'s texts', () => {
  assert.equal(msg(() => parseBind('/data:ro')), "invalid volume specification: '/data:ro'");
  assert.equal(msg(() => parseBind('a:b:c:d')), "invalid volume specification: 'a:b:c:d'");
  assert.equal(msg(() => parseBind(':/x')), "invalid volume specification: ':/x'");
  assert.equal(msg(() => parseBind('/h:/c:ro,rw')), 'invalid mode: ro,rw');
  assert.equal(msg(() => parseBind('/h:/c:bogus')), 'invalid mode: bogus');
  assert.equal(
    msg(() => parseBind('/h:rel')),
    `invalid volume specification: '/h:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`,
  );
  assert.equal(msg(() => parseBind('v:/')), `invalid volume specification: 'v:/': invalid mount config for type "volume": invalid specification: destination can't be '/'`);
  assert.equal(msg(() => parseBind('/h:/c:nocopy')), `invalid volume specification: '/h:/c:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified`);
  assert.equal(msg(() => parseBind('v:/c:rshared')), `invalid volume specification: 'v:/c:rshared': invalid mount config for type "volume": field BindOptions must not be specified`);
  assert.ok(validMountMode('ro,Z,rslave,nocopy,cached'));
  assert.ok(!validMountMode('z,Z'));
});

test('--mount validation follows moby\'s order and texts', () => {
  assert.equal(msg(() => validateMount({ Type: 'bind', Source: '/nope', Target: '/x' }, () => false)), 'invalid mount config for type "bind": bind source path does not exist: /nope');
  assert.equal(msg(() => validateMount({ Type: 'bind', Source: '/nope', Target: '/x', BindOptions: { CreateMountpoint: true } }, () => false)), 'no error');
  assert.equal(msg(() => validateMount({ Type: 'bind', Target: '/x' })), 'invalid mount config for type "bind": field Source must not be empty');
  assert.equal(msg(() => validateMount({ Type: 'bind', Source: '/s', Target: '/x', BindOptions: { Propagation: 'weird' } })), 'invalid mount config for type "bind": invalid propagation mode: weird');
  assert.equal(msg(() => validateMount({ Type: 'volume', Target: '' })), 'invalid mount config for type "volume": field Target must not be empty');
  assert.equal(msg(() => validateMount({ Type: 'volume', Target: '/x', ReadOnly: true })), 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes');
  assert.equal(msg(() => validateMount({ Type: 'tmpfs', Source: 's', Target: '/x' })), 'invalid mount config for type "tmpfs": field Source must not be specified');
  assert.equal(msg(() => validateMount({ Type: 'volume', Target: '/x', VolumeOptions: { Subpath: 'a' } })), 'invalid mount config for type "volume": must not set Subpath when using anonymous volumes');
  assert.equal(msg(() => validateMount({ Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { Subpath: 'a/../../b' } })), 'invalid mount config for type "volume": subpath must be a relative path within the volume');
  assert.equal(msg(() => validateMount({ Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { Subpath: '/abs' } })), 'invalid mount config for type "volume": subpath must be a relative path within the volume');
  assert.equal(msg(() => validateMount({ Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { Subpath: 'a/b' } })), 'no error');
  assert.equal(msg(() => validateMount({ Type: 'npipe', Target: '/x' })), 'invalid mount config for type "npipe": mount type unknown');
  assert.equal(msg(() => validateMount({ Type: 'tmpfs', Target: 'x' })), `invalid mount config for type "tmpfs": invalid mount path: 'x' mount path must be absolute`);
});

test('tmpfs options as moby converts them', () => {
  assert.equal(tmpfsData(1 << 20, 0o1770, false), 'mode=1770,size=1m');
  assert.equal(tmpfsData(3 * (1 << 30), undefined, true), 'ro,size=3g');
  assert.equal(tmpfsData(1000, undefined, false), 'size=1000');
});

test('volumes-from specs', () => {
  assert.deepEqual(parseVolumesFrom('db'), { ref: 'db', mode: 'rw' });
  assert.deepEqual(parseVolumesFrom('db:ro'), { ref: 'db', mode: 'ro' });
  assert.equal(msg(() => parseVolumesFrom('db:rshared')), 'invalid mode: rshared');
  assert.equal(msg(() => parseVolumesFrom('db:nocopy')), 'invalid mode: nocopy');
  assert.equal(msg(() => parseVolumesFrom('')), 'volumes-from specification cannot be an empty string');
});

test('a plan: volumes-from first and overridable, duplicates refused, image volumes anonymous unless mounted or skipped', () => {
  const from: MountPointRecord[] = [
    { Type: 'volume', Name: 'shared', Source: '/v/shared/_data', Destination: '/shared', Driver: 'local', Mode: 'z', RW: true, Propagation: '', CopyData: true },
    { Type: 'volume', Name: 'over', Source: '/v/over/_data', Destination: '/over', Driver: 'local', Mode: '', RW: true, Propagation: '' },
  ];
  const p = plan({
    hostConfig: { VolumesFrom: ['src:ro'], Binds: ['/h:/over'], Tmpfs: { '/tmp': '' } },
    volumes: { '/img': {}, '/shared': {}, '/tmp': {} },
    volumesFrom: () => from,
  });
  const byDest = Object.fromEntries(p.points.map((x) => [x.Destination, x]));
  assert.deepEqual(Object.keys(byDest).sort(), ['/img', '/over', '/shared']);
  assert.equal(byDest['/shared']!.RW, false);
  assert.equal(byDest['/shared']!.Mode, '');
  assert.equal(byDest['/shared']!.CopyData, false);
  assert.equal(byDest['/over']!.Type, 'bind');
  assert.equal(byDest['/img']!.Anonymous, true);
  assert.equal(p.volumes.length, 1);
  assert.equal(p.points[p.volumes[0]!.index]!.Destination, '/img');

  assert.equal(msg(() => plan({ hostConfig: { Binds: ['a1:/d', '/h:/d/'] } })), 'Duplicate mount point: /d');
  assert.equal(msg(() => plan({ hostConfig: { Binds: ['a1:/d'], Mounts: [{ Type: 'tmpfs', Target: '/d' }] } })), 'Duplicate mount point: /d');
  assert.equal(msg(() => plan({ hostConfig: { Tmpfs: { '/d': '' }, Mounts: [{ Type: 'volume', Source: 'x1', Target: '/d' }] } })), 'Duplicate mount point: /d');
  assert.equal(msg(() => plan({ hostConfig: { Tmpfs: { rel: '' } } })), "invalid mount path: 'rel' mount path must be absolute");
  assert.match(msg(() => plan({ hostConfig: { Binds: ['no/slash:/d'] } })), /^create no\/slash: "no\/slash" includes invalid characters for a local volume name/);

  const skipped = plan({ hostConfig: {}, volumes: { '/img': {}, '/user': {} }, imageOnlyVolumes: new Set(['/img']), skipImageVolumes: true });
  assert.deepEqual(skipped.points.map((x) => x.Destination), ['/user']);
});
