import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VolumeService, ANONYMOUS_LABEL } from '../../src/daemon/services/volume-service.js';
import { EventBus } from '../../src/daemon/services/events.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bvol-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const msg = async (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => e.message);

async function service(sub: string, users: string[] = []) {
  const events = new EventBus();
  const seen: string[] = [];
  events.subscribe((e) => seen.push(`${e.Type} ${e.Action} ${e.Actor.ID}`));
  const s = new VolumeService(path.join(dir, sub), events, () => undefined);
  await s.init();
  s.setUsers({ referencing: (n) => (users.includes(n) ? ['c0ffee'] : []), running: () => [] });
  return { s, seen };
}

test('volumes persist as one record each and come back after a restart of the service', async () => {
  const { s, seen } = await service('a');
  const v = await s.create({ Name: 'db', Labels: { 'com.docker.compose.project': 'p' }, DriverOpts: {} });
  assert.equal(v.Mountpoint, path.join(dir, 'a', 'db', '_data'));
  assert.deepEqual(v.Labels, { 'com.docker.compose.project': 'p' });
  assert.ok(fs.statSync(v.Mountpoint as string).isDirectory());
  assert.ok(fs.existsSync(path.join(dir, 'a', 'db', 'volume.json')));
  const anon = await s.create({}, { anonymous: true });
  assert.match(anon.Name as string, /^[0-9a-f]{64}$/);
  assert.deepEqual(anon.Labels, { [ANONYMOUS_LABEL]: '' });
  // A crashed create (a directory without a record) is not a volume.
  fs.mkdirSync(path.join(dir, 'a', 'half', '_data'), { recursive: true });
  const again = (await service('a')).s;
  assert.deepEqual(again.list(new Map()).Volumes.map((x) => x.Name).sort(), [anon.Name, 'db'].sort());
  assert.deepEqual(again.inspect('db'), v);
  assert.deepEqual(seen, [`volume create db`, `volume create ${anon.Name}`]);
});

test('list filters, in-use removal and prune as dockerd', async () => {
  const { s } = await service('b', ['used']);
  await s.create({ Name: 'used', Labels: { tier: 'db' } });
  await s.create({ Name: 'free', Labels: null });
  const anon = (await s.create({}, { anonymous: true })).Name as string;
  const names = (f: Record<string, string[]>) => s.list(new Map(Object.entries(f))).Volumes.map((v) => v.Name).sort();
  assert.deepEqual(names({ dangling: ['false'] }), ['used']);
  assert.deepEqual(names({ dangling: ['true'] }), [anon, 'free'].sort());
  assert.deepEqual(names({ label: ['tier=db'] }), ['used']);
  assert.deepEqual(names({ name: ['^fr'] }), ['free']);
  assert.deepEqual(names({ driver: ['local'] }).length, 3);
  assert.throws(() => s.list(new Map([['bogus', ['x']]])), /invalid filter 'bogus'/);
  assert.equal(await msg(s.remove('used', { force: false })), 'remove used: volume is in use - [c0ffee]');
  assert.equal(await msg(s.remove('used', { force: true })), 'remove used: volume is in use - [c0ffee]');
  assert.equal(await msg(s.remove('nope', { force: false })), 'get nope: no such volume');
  assert.equal(await msg(s.remove('nope', { force: true })), 'no error');
  fs.writeFileSync(path.join(s.mountpoint(anon), 'f'), 'x'.repeat(10));
  assert.deepEqual(await s.prune(new Map()), { VolumesDeleted: [anon], SpaceReclaimed: 10 });
  assert.deepEqual(await s.prune(new Map([['all', ['true']]])), { VolumesDeleted: ['free'], SpaceReclaimed: 0 });
  assert.deepEqual(names({}), ['used']);
});

test('create validates name, driver and options without writing anything', async () => {
  const { s } = await service('c');
  assert.match(await msg(s.create({ Name: 'a b' })), /^create a b: "a b" includes invalid characters for a local volume name/);
  assert.equal(await msg(s.create({ Name: 'x' })), 'create x: volume name is too short, names should be at least two alphanumeric characters');
  assert.equal(await msg(s.create({ Name: 'ok', Driver: 'nfs' })), 'error looking up volume plugin nfs: plugin "nfs" not found');
  assert.equal(await msg(s.create({ Name: 'ok', DriverOpts: { foo: 'bar' } })), 'create ok: invalid option key: "foo"');
  assert.equal(await msg(s.create({ Name: 'ok', DriverOpts: { type: 'tmpfs' } })), 'create ok: missing required option: "device"');
  assert.deepEqual(fs.readdirSync(path.join(dir, 'c')), []);
});
