// Autolock: a manager's keys sealed with the swarm's unlock key. After a
// restart the manager is locked (docker's texts) until `swarm unlock`; the
// key can be shown, rotated and turned off, and nothing on the manager's disk
// holds a private key in the clear meanwhile.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SwarmLab, type SwarmHost } from '../helpers/swarm-lab.js';
import { until, type RunResult } from '../helpers/daemon.js';

const lab = new SwarmLab();
let m: SwarmHost;

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Files under `dir` whose bytes hold a PEM private key. */
function clearKeys(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    // etcd's and atomic writes' temporary files come and go while we look
    let data: Buffer;
    try {
      data = fs.readFileSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (data.includes('PRIVATE KEY-----')) out.push(p);
  }
  return out;
}

async function restart(): Promise<void> {
  await m.daemon.stop();
  await m.daemon.start();
}

describe('swarm autolock', { timeout: 240_000 }, () => {
  before(async () => {
    await lab.setup(1);
    m = lab.hosts[0]!;
    await m.daemon.start();
    await m.daemon.makeBusybox();
  });
  after(async () => {
    await lab.cleanup();
  });

  let key = '';

  test('init --autolock prints the unlock key; no private key is left in the clear on disk', async () => {
    const out = ok(await m.daemon.berth(['swarm', 'init', '--autolock', '--advertise-addr', m.addr, '--dispatcher-heartbeat', '1s']), 'init');
    const k = /To unlock a swarm manager after it restarts, run the `berth swarm unlock`\ncommand and provide the following key:\n\n {4}(SWMKEY-1-\S+)\n\nRemember to store this key in a password manager/.exec(out);
    assert.ok(k, out);
    key = k[1]!;
    assert.equal(ok(await m.daemon.berth(['swarm', 'unlock-key', '-q']), 'unlock-key'), key + '\n');
    assert.equal(ok(await m.daemon.docker(['info', '--format', '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}']), 'info'), 'true\n');
    ok(await m.daemon.berth(['service', 'create', '-d', '--name', 'web', 'busybox', 'sleep', '600']), 'service create');
    await until(async () => ok(await m.daemon.berth(['service', 'ls', '--format', '{{.Replicas}}']), 'ls') === '1/1\n', 30_000, 300);
    // the node's TLS key, the data key and the CA key in etcd: none readable from the data root
    assert.deepEqual(clearKeys(path.join(m.daemon.dataRoot, 'swarm')), []);
  });

  test('a restarted manager is locked until swarm unlock with the right key', async () => {
    await restart();
    const info = ok(await m.daemon.docker(['info', '--format', '{{.Swarm.LocalNodeState}}']), 'info');
    assert.equal(info, 'locked\n');
    const ls = await m.daemon.berth(['node', 'ls']);
    assert.equal(ls.code, 1);
    assert.match(ls.stderr, /Swarm is encrypted and needs to be unlocked before it can be used\. Please use "docker swarm unlock" to unlock it\./);
    const bad = await m.daemon.berth(['swarm', 'unlock'], { input: 'SWMKEY-1-' + Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '') + '\n' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /swarm could not be unlocked: invalid key/);
    const garbage = await m.daemon.berth(['swarm', 'unlock'], { input: 'not-a-key\n' });
    assert.match(garbage.stderr, /invalid key/);
    // the docker CLI reads the key from stdin when it is not a terminal
    ok(await m.daemon.docker(['swarm', 'unlock'], { input: key + '\n' }), 'unlock');
    assert.equal(ok(await m.daemon.docker(['info', '--format', '{{.Swarm.LocalNodeState}}']), 'info'), 'active\n');
    await until(async () => ok(await m.daemon.berth(['service', 'ls', '--format', '{{.Name}} {{.Replicas}}']), 'ls') === 'web 1/1\n', 30_000, 300);
    const again = await m.daemon.berth(['swarm', 'unlock'], { input: key + '\n' });
    assert.match(again.stderr, /swarm is not locked/);
  });

  test('unlock-key --rotate: the old key no longer unlocks; --autolock=false: restarts need none', async () => {
    const out = ok(await m.daemon.berth(['swarm', 'unlock-key', '--rotate']), 'rotate');
    assert.match(out, /^Successfully rotated manager unlock key\.\n\nTo unlock a swarm manager/);
    const next = /(SWMKEY-1-\S+)/.exec(out)![1]!;
    assert.notEqual(next, key);
    await restart();
    assert.match((await m.daemon.berth(['swarm', 'unlock'], { input: key + '\n' })).stderr, /invalid key/);
    ok(await m.daemon.berth(['swarm', 'unlock'], { input: next + '\n' }), 'unlock with the new key');

    assert.equal(ok(await m.daemon.berth(['swarm', 'update', '--autolock=false']), 'update'), 'Swarm updated.\n');
    const none = await m.daemon.berth(['swarm', 'unlock-key']);
    assert.match(none.stderr, /no unlock key is set/);
    const rot = await m.daemon.berth(['swarm', 'unlock-key', '--rotate']);
    assert.match(rot.stderr, /cannot rotate because autolock is not turned on/);
    await restart();
    await until(async () => (await m.daemon.berth(['node', 'ls', '-q'])).code === 0, 30_000, 300);
    assert.equal(ok(await m.daemon.docker(['info', '--format', '{{.Swarm.LocalNodeState}}']), 'info'), 'active\n');

    // turned on again: the key is printed, and the manager is sealed with it
    const on = ok(await m.daemon.berth(['swarm', 'update', '--autolock=true']), 'update');
    assert.match(on, /^Swarm updated\.\nTo unlock a swarm manager after it restarts/);
    assert.deepEqual(clearKeys(path.join(m.daemon.dataRoot, 'swarm')), []);
  });
});
