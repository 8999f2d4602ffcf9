import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestDaemon, until, sleep, run } from '../helpers/daemon.js';

// One private berthd for the file; every test names its own containers and volumes.
const d = new TestDaemon();

before(async () => {
  await d.start();
  await d.makeBusybox();
});

after(async () => {
  await d.cleanup();
});

async function ok(args: string[], o: { input?: string } = {}): Promise<string> {
  const r = await d.berth(args, o);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function volumeNames(): Promise<string[]> {
  return (await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean);
}

async function containerNames(): Promise<string[]> {
  return (await ok(['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter(Boolean);
}

test('volume create, ls, inspect and rm behave as docker\'s', async () => {
  assert.equal(await ok(['volume', 'create', '--label', 'team=a', 'myvol']), 'myvol\n');
  const gen = (await ok(['volume', 'create'])).trim();
  assert.match(gen, /^[0-9a-f]{64}$/);
  const ls = await ok(['volume', 'ls']);
  assert.match(ls, /^DRIVER\s+VOLUME NAME\n/);
  assert.match(ls, /\nlocal\s+myvol\n/);
  const [v] = JSON.parse(await ok(['volume', 'inspect', 'myvol']));
  assert.deepEqual(Object.keys(v).sort(), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  assert.equal(v.Driver, 'local');
  assert.equal(v.Scope, 'local');
  assert.deepEqual(v.Labels, { team: 'a' });
  assert.equal(v.Mountpoint, path.join(d.dataRoot, 'volumes', 'myvol', '_data'));
  assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  assert.ok(fs.statSync(v.Mountpoint).isDirectory());
  assert.equal(await ok(['volume', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}} {{.Labels}}']), 'myvol team=a\n');
  assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'name=myv']), 'myvol\n');
  assert.equal(await ok(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'myvol']), 'myvol local\n');
  // Creating an existing name answers with that volume.
  assert.equal(await ok(['volume', 'create', 'myvol']), 'myvol\n');
  assert.equal(await ok(['volume', 'rm', 'myvol', gen]), `myvol\n${gen}\n`);
  assert.ok(!fs.existsSync(v.Mountpoint));
  const gone = await d.berth(['volume', 'inspect', 'myvol']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /get myvol: no such volume/);
  const rm = await d.berth(['volume', 'rm', 'myvol']);
  assert.equal(rm.code, 1);
  assert.equal(rm.stderr, 'Error response from daemon: get myvol: no such volume\n');
  assert.equal((await d.berth(['volume', 'rm', '-f', 'myvol'])).code, 0);
});

test('bad volume names and options give dockerd\'s one-line errors and create nothing', async () => {
  const before = await volumeNames();
  const bad = await d.berth(['volume', 'create', 'bad/name']);
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    'Error response from daemon: create bad/name: "bad/name" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path\n',
  );
  const short = await d.berth(['volume', 'create', 'x']);
  assert.match(short.stderr, /volume name is too short, names should be at least two alphanumeric characters/);
  const opt = await d.berth(['volume', 'create', '-o', 'foo=bar', 'optvol']);
  assert.equal(opt.stderr, 'Error response from daemon: create optvol: invalid option key: "foo"\n');
  const drv = await d.berth(['volume', 'create', '-d', 'nosuch', 'drvvol']);
  assert.match(drv.stderr, /error looking up volume plugin nosuch: plugin "nosuch" not found/);
  assert.deepEqual(await volumeNames(), before);
});

test('seed flow: data written to a named volume is there for a new container after the first is removed', async () => {
  await ok(['run', '--name', 'todo1', '-v', 'todo-db:/etc/todos', 'busybox', 'sh', '-c', 'echo "buy milk" > /etc/todos/todo.db']);
  await ok(['rm', 'todo1']);
  assert.ok((await volumeNames()).includes('todo-db'));
  assert.equal(await ok(['run', '--rm', '-v', 'todo-db:/etc/todos', 'busybox', 'cat', '/etc/todos/todo.db']), 'buy milk\n');
  // The same through --mount, read-only: reads work, writes fail.
  const ro = await d.berth(['run', '--rm', '--mount', 'type=volume,source=todo-db,target=/db,readonly', 'busybox', 'sh', '-c', 'cat /db/todo.db; echo x > /db/new']);
  assert.equal(ro.code, 1);
  assert.equal(ro.stdout, 'buy milk\n');
  assert.match(ro.stderr, /Read-only file system/);
});

test('Mounts in inspect are filled as dockerd fills them, and ps filters by volume', async () => {
  const host = path.join(d.dir, 'inspect-src');
  fs.mkdirSync(host);
  await ok(['create', '--name', 'mnts', '-v', 'insp-vol:/data', '-v', `${host}:/src:ro`, '-v', '/anon', '--mount', 'type=tmpfs,target=/scratch,tmpfs-size=1m', 'busybox', 'true']);
  const [c] = JSON.parse(await ok(['inspect', 'mnts']));
  const byDest = Object.fromEntries(c.Mounts.map((m: { Destination: string }) => [m.Destination, m]));
  assert.deepEqual(byDest['/data'], {
    Type: 'volume',
    Name: 'insp-vol',
    Source: path.join(d.dataRoot, 'volumes', 'insp-vol', '_data'),
    Destination: '/data',
    Driver: 'local',
    Mode: '',
    RW: true,
    Propagation: '',
  });
  assert.deepEqual(byDest['/src'], { Type: 'bind', Source: host, Destination: '/src', Mode: 'ro', RW: false, Propagation: 'rprivate' });
  assert.equal(byDest['/anon'].Type, 'volume');
  assert.match(byDest['/anon'].Name, /^[0-9a-f]{64}$/);
  assert.deepEqual(byDest['/scratch'], { Type: 'tmpfs', Source: '', Destination: '/scratch', Mode: '', RW: true, Propagation: '' });
  assert.equal(await ok(['ps', '-a', '--filter', 'volume=insp-vol', '--format', '{{.Names}}']), 'mnts\n');
  assert.equal(await ok(['ps', '-a', '--filter', 'volume=/src', '--format', '{{.Names}}']), 'mnts\n');
  assert.equal(await ok(['ps', '-a', '--filter', 'volume=nothing-like-it', '--format', '{{.Names}}']), '');
  // In use: dockerd's conflict text, and the volume stays.
  const inUse = await d.berth(['volume', 'rm', 'insp-vol']);
  assert.equal(inUse.code, 1);
  assert.equal(inUse.stderr, `Error response from daemon: remove insp-vol: volume is in use - [${c.Id}]\n`);
  assert.ok((await volumeNames()).includes('insp-vol'));
  // rm -v removes the anonymous volume, not the named one.
  await ok(['rm', '-v', 'mnts']);
  const names = await volumeNames();
  assert.ok(names.includes('insp-vol'));
  assert.ok(!names.includes(byDest['/anon'].Name));
  await ok(['volume', 'rm', 'insp-vol']);
});

test('run --rm removes its anonymous volumes; plain rm keeps them', async () => {
  const before = await volumeNames();
  await ok(['run', '--rm', '-v', '/scratch', 'busybox', 'touch', '/scratch/x']);
  await until(async () => (await volumeNames()).length === before.length, 5000);
  await ok(['run', '--name', 'keep-anon', '-v', '/scratch', 'busybox', 'true']);
  await ok(['rm', 'keep-anon']);
  const after = await volumeNames();
  assert.equal(after.length, before.length + 1);
  const dangling = (await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).split('\n').filter(Boolean);
  const anon = after.find((n) => !before.includes(n))!;
  assert.ok(dangling.includes(anon));
  // volume prune takes anonymous volumes only; -a also named ones.
  await ok(['volume', 'create', 'named-unused']);
  const pr = await ok(['volume', 'prune', '-f']);
  assert.match(pr, new RegExp(`^Deleted Volumes:\\n(.*\\n)*${anon}\\n(.*\\n)*\\nTotal reclaimed space: `));
  assert.ok((await volumeNames()).includes('named-unused'));
  const all = await ok(['volume', 'prune', '-a', '-f']);
  assert.match(all, /named-unused/);
  assert.ok(!(await volumeNames()).includes('named-unused'));
});

test('bind mounts: a host change shows at once in a running container; :ro is read-only; -v creates a missing host dir', async () => {
  const src = path.join(d.dir, 'app-src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'index.js'), 'v1\n');
  await ok(['run', '-d', '--name', 'dev', '-v', `${src}:/app`, '-v', `${src}:/ro:ro`, 'busybox', 'sleep', '300']);
  try {
    assert.equal(await ok(['exec', 'dev', 'cat', '/app/index.js']), 'v1\n');
    fs.writeFileSync(path.join(src, 'index.js'), 'v2\n');
    assert.equal(await ok(['exec', 'dev', 'cat', '/app/index.js']), 'v2\n');
    await ok(['exec', 'dev', 'sh', '-c', 'echo from-ctr > /app/out']);
    assert.equal(fs.readFileSync(path.join(src, 'out'), 'utf8'), 'from-ctr\n');
    const w = await d.berth(['exec', 'dev', 'touch', '/ro/nope']);
    assert.notEqual(w.code, 0);
    assert.match(w.stderr, /Read-only file system/);
  } finally {
    await d.berth(['rm', '-f', 'dev']);
  }
  // Read-only is recursive (docker 25+): a mount below the bind source is read-only too, unless bind-recursive=writable.
  const rsrc = path.join(d.dir, 'rro-src');
  fs.mkdirSync(path.join(rsrc, 'sub'), { recursive: true });
  await run('/bin/mount', ['-t', 'tmpfs', 'tmpfs', path.join(rsrc, 'sub')]);
  try {
    const rro = await d.berth(['run', '--rm', '-v', `${rsrc}:/r:ro`, 'busybox', 'touch', '/r/sub/x']);
    assert.notEqual(rro.code, 0);
    assert.match(rro.stderr, /Read-only file system/);
    await ok(['run', '--rm', '--mount', `type=bind,src=${rsrc},dst=/r,readonly,bind-recursive=writable`, 'busybox', 'touch', '/r/sub/x']);
    const top = await d.berth(['run', '--rm', '--mount', `type=bind,src=${rsrc},dst=/r,readonly,bind-recursive=writable`, 'busybox', 'touch', '/r/top']);
    assert.match(top.stderr, /Read-only file system/);
  } finally {
    await run('/bin/umount', [path.join(rsrc, 'sub')]);
  }
  const missing = path.join(d.dir, 'made-by-v', 'deep');
  await ok(['run', '--rm', '-v', `${missing}:/m`, 'busybox', 'touch', '/m/f']);
  assert.ok(fs.existsSync(path.join(missing, 'f')));
});

test('bind propagation: rslave sees host mounts made later; a private source refuses shared propagation as dockerd does', async () => {
  const shared = path.join(d.dir, 'prop-shared');
  fs.mkdirSync(shared);
  await run('/bin/mount', ['-t', 'tmpfs', 'tmpfs', shared]);
  await run('/bin/mount', ['--make-shared', shared]);
  try {
    fs.mkdirSync(path.join(shared, 'sub'));
    await ok(['run', '-d', '--name', 'prop', '--mount', `type=bind,src=${shared},dst=/p,bind-propagation=rslave`, 'busybox', 'sleep', '300']);
    await run('/bin/mount', ['-t', 'tmpfs', 'tmpfs', path.join(shared, 'sub')]);
    fs.writeFileSync(path.join(shared, 'sub', 'late'), 'late mount\n');
    assert.equal(await ok(['exec', 'prop', 'cat', '/p/sub/late']), 'late mount\n');
  } finally {
    await d.berth(['rm', '-f', 'prop']);
    await run('/bin/umount', ['-R', shared]);
  }
  const priv = path.join(d.dir, 'prop-private');
  fs.mkdirSync(priv);
  await run('/bin/mount', ['-t', 'tmpfs', 'tmpfs', priv]);
  await run('/bin/mount', ['--make-private', priv]);
  try {
    const r = await d.berth(['run', '--rm', '--mount', `type=bind,src=${priv},dst=/p,bind-propagation=rshared`, 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`path ${priv} is mounted on ${priv} but it is not a shared mount`));
  } finally {
    await run('/bin/umount', [priv]);
  }
});

test('each bad mount gives docker\'s one-line error and leaves no container and no volume', async () => {
  const ctrs = await containerNames();
  const vols = await volumeNames();
  const cases: Array<[string[], string]> = [
    [['--mount', 'type=bind,source=/nonexistent-berth-src,target=/x'], 'Error response from daemon: invalid mount config for type "bind": bind source path does not exist: /nonexistent-berth-src'],
    [['--mount', 'type=bind,source=relative/dir,target=/x'], `Error response from daemon: invalid mount config for type "bind": invalid mount path: 'relative/dir' mount path must be absolute`],
    [['-v', '/tmp:relative'], `Error response from daemon: invalid volume specification: '/tmp:relative': invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute`],
    [['-v', 'okvol:/'], `Error response from daemon: invalid volume specification: 'okvol:/': invalid mount config for type "volume": invalid specification: destination can't be '/'`],
    [['--mount', 'type=volume,source=okvol,target=/'], `Error response from daemon: invalid mount config for type "volume": invalid specification: destination can't be '/'`],
    [['-v', 'okvol:/data', '-v', 'other:/data'], 'Error response from daemon: Duplicate mount point: /data'],
    [['-v', 'okvol:/data', '--tmpfs', '/data'], 'Error response from daemon: Duplicate mount point: /data'],
    [['-v', 'bad!name:/data'], 'Error response from daemon: create bad!name: "bad!name" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
    [['-v', '/data:ro'], `Error response from daemon: invalid volume specification: '/data:ro'`],
    [['-v', 'okvol:/data:bogus'], 'Error response from daemon: invalid mode: bogus'],
    [['--volumes-from', 'no-such-ctr'], 'Error response from daemon: No such container: no-such-ctr'],
  ];
  for (const [args, msg] of cases) {
    const r = await d.berth(['run', '--name', 'badmount', ...args, 'busybox', 'true']);
    assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    // docker's shape for a failed run: `docker: <error>`, then a hint to --help.
    assert.equal(r.stderr.split('\n')[0], `berth: ${msg}`, args.join(' '));
    assert.deepEqual(await containerNames(), ctrs, args.join(' '));
    assert.deepEqual(await volumeNames(), vols, args.join(' '));
  }
});

test('tmpfs mounts: options applied, contents gone after a restart of the container', async () => {
  await ok(['run', '-d', '--name', 'tmpfs1', '--tmpfs', '/cache:size=2m', '--mount', 'type=tmpfs,target=/t2,tmpfs-size=1048576,tmpfs-mode=1770', 'busybox', 'sleep', '300']);
  try {
    const mounts = await ok(['exec', 'tmpfs1', 'cat', '/proc/mounts']);
    assert.match(mounts, /tmpfs \/cache tmpfs [^ ]*size=2048k/);
    assert.match(mounts, /tmpfs \/t2 tmpfs [^ ]*size=1024k[^ ]*mode=1770/);
    await ok(['exec', 'tmpfs1', 'sh', '-c', 'echo x > /cache/f; echo y > /t2/f']);
    await ok(['restart', '-t', '0', 'tmpfs1']);
    assert.equal(await ok(['exec', 'tmpfs1', 'ls', '-A', '/cache', '/t2']), '/cache:\n\n/t2:\n');
  } finally {
    await d.berth(['rm', '-f', 'tmpfs1']);
  }
});

test('backup and restore with --volumes-from and tar', async () => {
  const backup = path.join(d.dir, 'backup');
  fs.mkdirSync(backup);
  await ok(['run', '--name', 'dbstore', '-v', '/dbdata', 'busybox', 'sh', '-c', 'echo precious > /dbdata/f']);
  await ok(['run', '--rm', '--volumes-from', 'dbstore', '-v', `${backup}:/backup`, 'busybox', 'tar', 'cf', '/backup/backup.tar', '/dbdata']);
  const list = await run('/bin/tar', ['tf', path.join(backup, 'backup.tar')]);
  assert.match(list.stdout, /dbdata\/f/);
  await ok(['run', '--name', 'dbstore2', '-v', '/dbdata', 'busybox', 'true']);
  await ok(['run', '--rm', '--volumes-from', 'dbstore2', '-v', `${backup}:/backup`, 'busybox', 'sh', '-c', 'cd /dbdata && tar xf /backup/backup.tar --strip 1']);
  assert.equal(await ok(['run', '--rm', '--volumes-from', 'dbstore2', 'busybox', 'cat', '/dbdata/f']), 'precious\n');
  // :ro makes every mount of the source read-only.
  const ro = await d.berth(['run', '--rm', '--volumes-from', 'dbstore:ro', 'busybox', 'touch', '/dbdata/g']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  await ok(['rm', '-v', 'dbstore', 'dbstore2']);
});

test('copy-up: a new volume over image content gets it with its owner, once; nocopy leaves it empty', async () => {
  await ok(['run', '--name', 'cu-base', 'busybox', 'sh', '-c', 'mkdir /data && echo seed > /data/x && chown -R 1000:1000 /data && chmod 750 /data']);
  await ok(['commit', '-c', 'VOLUME /data', 'cu-base', 'copyup:1']);
  await ok(['rm', 'cu-base']);
  // Anonymous volume from the image's VOLUME.
  assert.equal(await ok(['run', '--rm', 'copyup:1', 'sh', '-c', 'cat /data/x; stat -c "%u:%g %a" /data /data/x']), 'seed\n1000:1000 750\n1000:1000 644\n');
  // A new named volume gets the content and owner…
  assert.equal(await ok(['run', '--rm', '-v', 'cu-vol:/data', 'copyup:1', 'sh', '-c', 'stat -c "%u:%g" /data/x; echo changed > /data/x']), '1000:1000\n');
  // …once: later containers see the volume's own content.
  assert.equal(await ok(['run', '--rm', '-v', 'cu-vol:/data', 'copyup:1', 'cat', '/data/x']), 'changed\n');
  assert.equal(await ok(['run', '--rm', '-v', 'cu-nocopy:/data:nocopy', 'copyup:1', 'ls', '-A', '/data']), '');
  assert.equal(await ok(['run', '--rm', '--mount', 'type=volume,source=cu-nocopy2,target=/data,volume-nocopy', 'copyup:1', 'ls', '-A', '/data']), '');
  await ok(['volume', 'rm', 'cu-vol', 'cu-nocopy', 'cu-nocopy2']);
  // The builder's RUN containers: no anonymous volume (so no copy-up) for the image's VOLUMEs.
  const vols = await volumeNames();
  const cr = await d.api('POST', '/containers/create', { Image: 'copyup:1', Cmd: ['true'], HostConfig: { BerthSkipImageVolumes: true } });
  assert.equal(cr.status, 201, cr.body);
  const [bc] = JSON.parse(await ok(['inspect', cr.json().Id]));
  assert.deepEqual(bc.Mounts, []);
  assert.deepEqual(await volumeNames(), vols);
  await ok(['rm', cr.json().Id]);
  // A symlink in the image pointing out of the root does not make copy-up read the host.
  await ok(['run', '--name', 'cu-evil', 'busybox', 'ln', '-s', '/etc', '/data']);
  await ok(['commit', 'cu-evil', 'copyup:evil']);
  await ok(['rm', 'cu-evil']);
  await ok(['run', '--rm', '-v', 'cu-evil-vol:/data', 'copyup:evil', 'true']);
  // Resolved inside the container's root, as dockerd does: the container's /etc, never the host's.
  const copied = fs.readdirSync(path.join(d.dataRoot, 'volumes', 'cu-evil-vol', '_data'));
  assert.ok(fs.existsSync('/etc/debian_version') && !copied.includes('debian_version'), copied.join(' '));
  await ok(['volume', 'rm', 'cu-evil-vol']);
});

test('volume-subpath mounts a path inside the volume, resolved inside it', async () => {
  await ok(['run', '--rm', '-v', 'sp-vol:/v', 'busybox', 'sh', '-c', 'mkdir /v/sub && echo in-sub > /v/sub/f && ln -s /etc /v/evil']);
  assert.equal(await ok(['run', '--rm', '--mount', 'type=volume,src=sp-vol,dst=/s,volume-subpath=sub', 'busybox', 'cat', '/s/f']), 'in-sub\n');
  // An absolute symlink in the volume points inside the volume (where there is no /etc), never at the host's.
  const evil = await d.berth(['run', '--rm', '--mount', 'type=volume,src=sp-vol,dst=/s,volume-subpath=evil', 'busybox', 'ls', '/s']);
  assert.equal(evil.code, 125);
  assert.match(evil.stderr, /error mounting subpath evil of volume sp-vol: cannot access path/);
  const up = await d.berth(['run', '--rm', '--mount', 'type=volume,src=sp-vol,dst=/s,volume-subpath=../x', 'busybox', 'true']);
  assert.equal(up.stderr.split('\n')[0], 'berth: Error response from daemon: invalid mount config for type "volume": subpath must be a relative path within the volume');
  assert.deepEqual(fs.readdirSync(path.join(d.execRoot, 'subpaths')), []);
  await ok(['volume', 'rm', 'sp-vol']);
});

test('volume events: create, mount, unmount, destroy', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok(['run', '--rm', '-v', 'evvol:/v', 'busybox', 'true']);
  await ok(['volume', 'rm', 'evvol']);
  const until_ = Math.floor(Date.now() / 1000) + 1;
  const ev = await ok(['events', '--since', String(since), '--until', String(until_), '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}}']);
  const lines = ev.split('\n').filter((l) => l.endsWith(' evvol'));
  assert.deepEqual(lines, ['create evvol', 'mount evvol', 'unmount evvol', 'destroy evvol']);
});

test('cp into and out of a path inside a volume, for stopped and running containers', async () => {
  const host = path.join(d.dir, 'cpfile');
  fs.writeFileSync(host, 'to-volume\n');
  await ok(['create', '--name', 'cpv', '-v', 'cp-vol:/vol', 'busybox', 'sleep', '300']);
  await ok(['cp', host, 'cpv:/vol/in.txt']);
  assert.equal(fs.readFileSync(path.join(d.dataRoot, 'volumes', 'cp-vol', '_data', 'in.txt'), 'utf8'), 'to-volume\n');
  const stoppedOut = path.join(d.dir, 'cp-stopped-out.txt');
  await ok(['cp', 'cpv:/vol/in.txt', stoppedOut]);
  assert.equal(fs.readFileSync(stoppedOut, 'utf8'), 'to-volume\n');
  // A read-only bind stays read-only for cp, and the host directory is untouched.
  const roDir = path.join(d.dir, 'cp-ro');
  fs.mkdirSync(roDir);
  await ok(['create', '--name', 'cpro', '-v', `${roDir}:/ro:ro`, 'busybox', 'true']);
  const roCp = await d.berth(['cp', host, 'cpro:/ro/x']);
  assert.notEqual(roCp.code, 0);
  assert.deepEqual(fs.readdirSync(roDir), []);
  await ok(['rm', 'cpro']);
  await ok(['start', 'cpv']);
  try {
    assert.equal(await ok(['exec', 'cpv', 'cat', '/vol/in.txt']), 'to-volume\n');
    await ok(['exec', 'cpv', 'sh', '-c', 'echo from-running > /vol/out.txt']);
    const out = path.join(d.dir, 'cp-out.txt');
    await ok(['cp', 'cpv:/vol/out.txt', out]);
    assert.equal(fs.readFileSync(out, 'utf8'), 'from-running\n');
    await ok(['cp', host, 'cpv:/vol/in2.txt']);
    assert.equal(await ok(['exec', 'cpv', 'cat', '/vol/in2.txt']), 'to-volume\n');
  } finally {
    await ok(['rm', '-f', 'cpv']);
  }
  await ok(['volume', 'rm', 'cp-vol']);
});

test('system df lists volumes with sizes; system prune --volumes removes unused anonymous ones', async () => {
  await ok(['run', '--name', 'dfc', '-v', 'df-vol:/d', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /d/blob']);
  const du = JSON.parse((await d.api('GET', '/system/df')).body);
  const v = du.Volumes.find((x: { Name: string }) => x.Name === 'df-vol');
  assert.deepEqual(v.UsageData, { Size: 100000, RefCount: 1 });
  const table = await ok(['system', 'df']);
  assert.match(table, /Local Volumes\s+\d+\s+\d+\s+\S+/);
  await ok(['rm', 'dfc']);
  await ok(['run', '--name', 'sp', '-v', '/anon', 'busybox', 'true']);
  const prompt = await d.berth(['system', 'prune', '--volumes'], { input: 'n\n' });
  assert.equal(
    prompt.stdout,
    'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue? [y/N] \n',
  );
  const out = await ok(['system', 'prune', '-f', '--volumes']);
  assert.match(out, /^Deleted Containers:\n[0-9a-f]{64}\n/);
  assert.match(out, /\nDeleted Volumes:\n[0-9a-f]{64}\n\n/);
  assert.match(out, /Total reclaimed space: \S+\n$/);
  assert.ok((await volumeNames()).includes('df-vol'));
  await ok(['volume', 'rm', 'df-vol']);
});

test('a local volume with -o type=tmpfs and one with o=bind are mounted while used', async () => {
  const dev = path.join(d.dir, 'bind-device');
  fs.mkdirSync(dev);
  fs.writeFileSync(path.join(dev, 'host.txt'), 'on host\n');
  await ok(['volume', 'create', '-o', 'type=none', '-o', `device=${dev}`, '-o', 'o=bind', 'bindvol']);
  assert.equal(await ok(['run', '--rm', '-v', 'bindvol:/b', 'busybox', 'sh', '-c', 'cat /b/host.txt; echo back > /b/ctr.txt']), 'on host\n');
  assert.equal(fs.readFileSync(path.join(dev, 'ctr.txt'), 'utf8'), 'back\n');
  const [v] = JSON.parse(await ok(['volume', 'inspect', 'bindvol']));
  assert.deepEqual(v.Options, { type: 'none', device: dev, o: 'bind' });
  await ok(['volume', 'rm', 'bindvol']);
  // Removing the volume never touches the device's files.
  assert.ok(fs.existsSync(path.join(dev, 'host.txt')));
  await ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'tmpvol']);
  const mounts = await ok(['run', '--rm', '-v', 'tmpvol:/t', 'busybox', 'sh', '-c', 'echo hi > /t/f; grep " /t " /proc/mounts']);
  assert.match(mounts, /tmpfs/);
  // Unmounted again once no running container uses it: the data directory is empty underneath.
  assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'volumes', 'tmpvol', '_data')), []);
  await ok(['volume', 'rm', 'tmpvol']);
});

test('data survives berthd restart, a crash and a reboot; a tmpfs volume comes back empty after a reboot', async () => {
  await ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'tmpvol']);
  await ok(['run', '--name', 'persist', '-v', 'keep-vol:/k', 'busybox', 'sh', '-c', 'echo kept > /k/f']);
  await ok(['run', '-d', '--name', 'tmpuser', '-v', 'tmpvol:/t', 'busybox', 'sh', '-c', 'echo hi > /t/f; sleep 300']);
  await until(async () => (await d.berth(['exec', 'tmpuser', 'cat', '/t/f'])).stdout === 'hi\n', 10_000);
  await d.stop();
  await d.start();
  assert.equal(await ok(['run', '--rm', '-v', 'keep-vol:/k', 'busybox', 'cat', '/k/f']), 'kept\n');
  assert.equal(await ok(['exec', 'tmpuser', 'cat', '/t/f']), 'hi\n');
  await d.kill9();
  await d.start();
  assert.equal(await ok(['run', '--rm', '--volumes-from', 'persist', 'busybox', 'cat', '/k/f']), 'kept\n');
  await d.simulateReboot();
  await d.start();
  assert.equal(await ok(['run', '--rm', '-v', 'keep-vol:/k', 'busybox', 'cat', '/k/f']), 'kept\n');
  assert.equal(await ok(['run', '--rm', '-v', 'tmpvol:/t', 'busybox', 'ls', '-A', '/t']), '');
  await ok(['rm', '-f', 'persist', 'tmpuser']);
  await ok(['volume', 'rm', 'keep-vol', 'tmpvol']);
});

test('the docker CLI: volume create/ls/inspect/rm and run -v against berthd', async () => {
  const c = await d.docker(['volume', 'create', '--label', 'via=docker', 'dk-vol']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout, 'dk-vol\n');
  const ls = await d.docker(['volume', 'ls', '--filter', 'label=via=docker']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^DRIVER\s+VOLUME NAME\nlocal\s+dk-vol\n$/);
  const insp = await d.docker(['volume', 'inspect', '--format', '{{.Mountpoint}} {{.Labels}}', 'dk-vol']);
  assert.equal(insp.stdout, `${path.join(d.dataRoot, 'volumes', 'dk-vol', '_data')} map[via:docker]\n`);
  const r = await d.docker(['run', '--rm', '-v', 'dk-vol:/x', 'busybox', 'sh', '-c', 'echo via-docker > /x/f; cat /x/f']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'via-docker\n');
  const bad = await d.docker(['run', '--rm', '--mount', 'type=bind,source=/nonexistent-berth-src,target=/x', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid mount config for type "bind": bind source path does not exist: \/nonexistent-berth-src/);
  const rm = await d.docker(['volume', 'rm', 'dk-vol']);
  assert.equal(rm.code, 0, rm.stderr);
});

void sleep;
