import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lookupUser, secureJoin } from '../../src/daemon/system/user-lookup.js';
import { resolveUser } from '../../src/daemon/system/oci-spec.js';

let tmp = '';
let rootfs = '';

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'berth-user-'));
  rootfs = path.join(tmp, 'rootfs');
  await mkdir(path.join(rootfs, 'etc'), { recursive: true });
  await writeFile(
    path.join(rootfs, 'etc/passwd'),
    [
      'root:x:0:0:root:/root:/bin/sh',
      'app:x:1000:1000:App:/home/app:/bin/sh',
      'svc:x:1001:1000::/srv:/bin/false',
      '',
    ].join('\n'),
  );
  await writeFile(
    path.join(rootfs, 'etc/group'),
    ['root:x:0:', 'wheel:x:10:app', 'app:x:1000:', 'docker:x:999:app,svc', 'audio:x:29:', ''].join('\n'),
  );
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('a user name gives its ids, home and supplementary groups', async () => {
  const u = await resolveUser(rootfs, 'app');
  assert.deepEqual(u, { uid: 1000, gid: 1000, additionalGids: [1000, 10, 999], home: '/home/app' });
});

test('an empty user is root', async () => {
  assert.deepEqual(await resolveUser(rootfs, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/root' });
  assert.deepEqual(await resolveUser(rootfs, undefined), { uid: 0, gid: 0, additionalGids: [0], home: '/root' });
});

test('a uid with an entry takes that entry', async () => {
  const u = await resolveUser(rootfs, '1001');
  assert.equal(u.uid, 1001);
  assert.equal(u.gid, 1000);
  assert.equal(u.home, '/srv');
});

test('a numeric uid without entry is allowed, gid 0 and home /', async () => {
  assert.deepEqual(await resolveUser(rootfs, '4242'), { uid: 4242, gid: 0, additionalGids: [0], home: '/' });
});

test('user:group sets the primary group and no supplementary groups', async () => {
  assert.deepEqual(await resolveUser(rootfs, 'app:audio'), { uid: 1000, gid: 29, additionalGids: [29], home: '/home/app' });
  assert.deepEqual(await resolveUser(rootfs, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [4343], home: '/' });
});

test("unknown names fail with docker's texts", async () => {
  await assert.rejects(resolveUser(rootfs, 'nosuch'), {
    message: 'unable to find user nosuch: no matching entries in passwd file',
  });
  await assert.rejects(resolveUser(rootfs, 'app:nosuch'), {
    message: 'unable to find group nosuch: no matching entries in group file',
  });
});

test('GroupAdd appends names and numeric ids after the user groups', async () => {
  const u = await lookupUser(rootfs, 'app', ['audio', '5000', 'docker']);
  assert.deepEqual(u.additionalGids, [1000, 10, 999, 29, 5000, 999]);
  await assert.rejects(lookupUser(rootfs, 'app', ['nosuch']), {
    message: 'Unable to find group nosuch: no matching entries in group file',
  });
});

test('without passwd, only numeric users resolve', async () => {
  const bare = path.join(tmp, 'bare');
  await mkdir(bare, { recursive: true });
  assert.deepEqual(await resolveUser(bare, '33:44'), { uid: 33, gid: 44, additionalGids: [44], home: '/' });
  await assert.rejects(resolveUser(bare, 'app'), {
    message: 'unable to find user app: no matching entries in passwd file',
  });
});

test('an absolute /etc symlink resolves inside the rootfs, not on the host', async () => {
  const evil = path.join(tmp, 'evil');
  await mkdir(path.join(evil, 'real'), { recursive: true });
  await writeFile(path.join(evil, 'real/passwd'), 'inside:x:7:7::/inside:/bin/sh\n');
  // /etc -> /real : on the host that would be /real, inside the rootfs it is <evil>/real.
  await symlink('/real', path.join(evil, 'etc'));
  const u = await resolveUser(evil, 'inside');
  assert.equal(u.uid, 7);
  await assert.rejects(resolveUser(evil, 'root'), { message: /unable to find user root/ });
});

test('a relative symlink climbing out with .. stays inside the rootfs', async () => {
  const climb = path.join(tmp, 'climb');
  await mkdir(path.join(climb, 'etc'), { recursive: true });
  // ../../../../etc/passwd from <climb>/etc would be the host's passwd; clamped, it is <climb>/etc/passwd itself → loop-free miss.
  await symlink('../../../../../../../etc/shadow-none', path.join(climb, 'etc/passwd'));
  await assert.rejects(resolveUser(climb, 'root'), {
    message: 'unable to find user root: no matching entries in passwd file',
  });
  assert.equal(await secureJoin(climb, '/etc/passwd'), path.join(climb, 'etc/shadow-none'));
});

test('secureJoin clamps .. at the root and follows chained links', async () => {
  const r = path.join(tmp, 'chain');
  await mkdir(path.join(r, 'a/b'), { recursive: true });
  await symlink('/a', path.join(r, 'la'));
  await symlink('../../..', path.join(r, 'a/b/up'));
  assert.equal(await secureJoin(r, '../../x'), path.join(r, 'x'));
  assert.equal(await secureJoin(r, '/la/b'), path.join(r, 'a/b'));
  assert.equal(await secureJoin(r, '/a/b/up/etc'), path.join(r, 'etc'));
});
