// The CLI side of docker cp: copy-rule helpers, and unpacking an archive that
// came out of a (possibly hostile) container onto the host (CVE-2019-14271 class).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { prepareArchiveCopy, rebaseEntries, splitPathDirEntry, unpackLocal } from '../../src/cli/cparchive.js';
import { splitCpArg } from '../../src/cli/commands/cp.js';

async function makeTar(entries: Array<{ name: string; type?: 'file' | 'symlink' | 'directory' | 'link'; linkname?: string; body?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: 0o644 }, e.body ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cpa-'));
}

test('splitCpArg: absolute and ./ paths are local, NAME:PATH is a container', () => {
  assert.deepEqual(splitCpArg('c:/etc'), ['c', '/etc']);
  assert.deepEqual(splitCpArg('/tmp/a:b'), ['', '/tmp/a:b']);
  assert.deepEqual(splitCpArg('./a:b'), ['', './a:b']);
  assert.deepEqual(splitCpArg('file'), ['', 'file']);
});

test('splitPathDirEntry keeps "dir/." as the directory contents', () => {
  assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a/b'), ['/a', 'b']);
});

test('prepareArchiveCopy follows docker\'s copy rules', () => {
  assert.deepEqual(prepareArchiveCopy({ path: '/d', exists: true, isDir: true }, { path: '/x', exists: true, isDir: true }), { dir: '/x' });
  assert.deepEqual(prepareArchiveCopy({ path: '/d', exists: true, isDir: true }, { path: '/x/new', exists: false, isDir: false }), { dir: '/x', rebase: ['d', 'new'] });
  assert.throws(() => prepareArchiveCopy({ path: '/d', exists: true, isDir: true }, { path: '/x/f', exists: true, isDir: false }), /cannot copy directory/);
  assert.throws(() => prepareArchiveCopy({ path: '/f', exists: true, isDir: false }, { path: '/x/nodir/', exists: false, isDir: false }), /no such directory/);
});

test('rebaseEntries renames the top component only', async () => {
  const src = await makeTar([{ name: 'd/', type: 'directory' }, { name: 'd/d.txt', body: 'x' }, { name: 'dd', body: 'y' }]);
  const names: string[] = [];
  const ex = tar.extract();
  ex.on('entry', (h, s, next) => {
    names.push(h.name);
    s.on('end', () => next());
    s.resume();
  });
  const done = new Promise<void>((r) => ex.on('finish', () => r()));
  rebaseEntries(Readable.from([src]), 'd', 'new').pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  assert.deepEqual(names, ['new/', 'new/d.txt', 'dd']);
});

test('unpackLocal refuses entries that climb out of the destination', async () => {
  const dir = tmp();
  const outside = path.join(path.dirname(dir), `cpa-escape-${path.basename(dir)}`);
  await assert.rejects(unpackLocal(Readable.from([await makeTar([{ name: `../${path.basename(outside)}`, body: 'x' }])]), dir), /outside of the destination/);
  assert.equal(fs.existsSync(outside), false);
  fs.rmSync(dir, { recursive: true });
});

test('unpackLocal never writes through a symlink the archive planted', async () => {
  const dir = tmp();
  const victim = tmp();
  const archive = await makeTar([
    { name: 'x/', type: 'directory' },
    { name: 'x/l', type: 'symlink', linkname: victim },
    { name: 'x/l/pwned', body: 'owned' },
  ]);
  await assert.rejects(unpackLocal(Readable.from([archive]), dir), /not a directory/);
  assert.deepEqual(fs.readdirSync(victim), []);
  // The symlink itself is kept as data, as docker does.
  assert.equal(fs.readlinkSync(path.join(dir, 'x/l')), victim);
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(victim, { recursive: true });
});

test('unpackLocal: a hard link may only point inside the destination', async () => {
  const dir = tmp();
  const archive = await makeTar([{ name: 'h', type: 'link', linkname: '../../etc/passwd' }]);
  await assert.rejects(unpackLocal(Readable.from([archive]), dir), /outside of the destination/);
  fs.rmSync(dir, { recursive: true });
});
