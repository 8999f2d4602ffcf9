// The builder's pure parts: history texts in dockerd's Go formatting, COPY source globbing
// and symlink rules, context tar unpacking (with `../` rejected), BuildKit-style progress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { goDuration, healthcheckText, nopCreatedBy, nopCreatedByString, plainList, quoteList } from '../../src/daemon/services/build/history-text.js';
import { BuildContext, BuildContextError, cleanInside, cleanRel, loadDockerfile } from '../../src/daemon/services/build/build-context.js';
import { contextTree, expandSource, resolveFollow } from '../../src/daemon/services/build/source-tree.js';
import { BuildProgress, TtyBuildProgress } from '../../src/cli/format/build-progress.js';

async function tarOf(entries: Array<Partial<tar.Header> & { name: string; data?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const { data, ...h } = e;
    pack.entry({ ...h, size: data ? Buffer.byteLength(data) : 0 } as tar.Header, data ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('history texts as dockerd prints them', () => {
  const sh = ['/bin/sh', '-c'];
  assert.equal(nopCreatedBy(sh, 'CMD ' + quoteList(['sh'])), '/bin/sh -c #(nop)  CMD ["sh"]');
  assert.equal(nopCreatedByString(sh, 'WORKDIR /app'), '/bin/sh -c #(nop) WORKDIR /app');
  assert.equal(plainList(['/data', '/logs']), '[/data /logs]');
  assert.equal(quoteList(['/bin/sh', '-c', 'echo "hi"']), '["/bin/sh" "-c" "echo \\"hi\\""]');
  assert.equal(goDuration(0), '0s');
  assert.equal(goDuration(5e9), '5s');
  assert.equal(goDuration(90e9), '1m30s');
  assert.equal(goDuration(1.5e9), '1.5s');
  assert.equal(goDuration(500e6), '500ms');
  assert.equal(goDuration(3600e9 + 1e9), '1h0m1s');
  assert.equal(healthcheckText({ Test: ['CMD-SHELL', 'true'], Interval: 5e9 }), 'HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" "0s" \'\\x00\'}');
  assert.equal(healthcheckText({ Test: ['NONE'], Retries: 3 }), 'HEALTHCHECK &{["NONE"] "0s" "0s" "0s" "0s" \'\\x03\'}');
});

test('context paths: ../ entries leave the context, names stay inside', () => {
  assert.equal(cleanRel('./a/b/../c'), 'a/c');
  assert.equal(cleanRel('../x'), null);
  assert.equal(cleanRel('a/../../x'), null);
  assert.equal(cleanInside('../../etc/passwd'), 'etc/passwd');
  assert.equal(cleanInside('/src/./app/'), 'src/app');
});

test('context unpacking: hashes, .dockerignore, <Dockerfile>.dockerignore, breakout rejected', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bctx-'));
  try {
    const body = await tarOf([
      { name: 'Dockerfile', data: 'FROM scratch\n' },
      { name: 'Dockerfile.dockerignore', data: '*.log\n!keep.log\n' },
      { name: '.dockerignore', data: 'src\n' },
      { name: 'src/a.txt', data: 'a' },
      { name: 'x.log', data: 'x' },
      { name: 'keep.log', data: 'k' },
      { name: 'link', type: 'symlink', linkname: 'src/a.txt' },
    ]);
    const ctx = await BuildContext.extract(Readable.from([body]), path.join(dir, 'c'));
    const df = await loadDockerfile(ctx, 'Dockerfile');
    assert.equal(df.text, 'FROM scratch\n');
    assert.deepEqual(df.ignore, ['*.log', '!keep.log']);
    ctx.applyIgnore(df.ignore);
    assert.equal(ctx.get('x.log'), undefined);
    assert.ok(ctx.get('keep.log'));
    assert.equal(ctx.get('src/a.txt')?.hash, 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
    const tree = contextTree(ctx);
    assert.equal(await resolveFollow(tree, 'link'), 'src/a.txt');
    assert.deepEqual(await expandSource(tree, '*.log'), ['keep.log']);
    assert.deepEqual(await expandSource(tree, 's?c/*.txt'), ['src/a.txt']);
    assert.deepEqual(await expandSource(tree, '../../src'), ['src']);
    assert.deepEqual(await expandSource(tree, 'nope'), []);
    await ctx.remove();

    const big = 'x'.repeat((1 << 20) + 5);
    const bigCtx = await BuildContext.extract(Readable.from([await tarOf([{ name: 'big/file.bin', data: big }, { name: 'small', data: 's' }])]), path.join(dir, 'b'));
    assert.equal(bigCtx.get('big/file.bin')?.data, undefined, 'a large file goes to disk');
    assert.equal(fs.readFileSync(await bigCtx.file('big/file.bin'), 'utf8'), big);
    const [p1, p2] = await Promise.all([bigCtx.file('small'), bigCtx.file('small')]);
    assert.equal(p1, p2);
    assert.equal(fs.readFileSync(p1, 'utf8'), 's');
    await bigCtx.remove();

    const evil = await tarOf([{ name: 'Dockerfile', data: 'FROM scratch\n' }, { name: '../../escape', data: 'x' }]);
    await assert.rejects(BuildContext.extract(Readable.from([evil]), path.join(dir, 'e')), (e: Error) => e instanceof BuildContextError && /is outside of the build context/.test(e.message));
    const none = await BuildContext.extract(Readable.from([await tarOf([{ name: 'a', data: '' }])]), path.join(dir, 'n'));
    await assert.rejects(loadDockerfile(none, ''), /Cannot locate specified Dockerfile: Dockerfile/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('BuildKit-style progress from the daemon events', () => {
  let out = '';
  const p = new BuildProgress({ write: (s: string) => (out += s) });
  p.internal('[internal] load build definition from Dockerfile', '');
  p.event({ type: 'step', vertex: 1, name: '[1/2] FROM busybox' });
  p.event({ type: 'done', vertex: 1, cached: false, ms: 0 });
  p.event({ type: 'step', vertex: 2, name: '[2/2] RUN echo hi' });
  p.event({ type: 'log', vertex: 2, data: 'hi\npart' });
  p.event({ type: 'log', vertex: 2, data: 'ial\n' });
  p.event({ type: 'done', vertex: 2, cached: false, ms: 340 });
  p.event({ type: 'step', vertex: 3, name: '[3/3] COPY . /' });
  p.event({ type: 'done', vertex: 3, cached: true, ms: 0 });
  p.exported('sha256:abc', ['docker.io/library/x:latest']);
  const lines = out.split('\n');
  assert.deepEqual(lines.slice(0, 3), ['#1 [internal] load build definition from Dockerfile', '#1 DONE 0.0s', '']);
  assert.ok(lines.includes('#2 [1/2] FROM busybox'));
  assert.ok(lines.some((l) => /^#3 0\.\d hi$/.test(l)));
  assert.ok(lines.some((l) => /^#3 0\.\d partial$/.test(l)));
  assert.ok(lines.includes('#3 DONE 0.3s'));
  assert.ok(lines.includes('#4 CACHED'));
  assert.ok(out.endsWith('#5 exporting to image\n#5 writing image sha256:abc done\n#5 naming to docker.io/library/x:latest done\n#5 DONE 0.0s\n'));
});

test('the live terminal view: one line per step, running steps with their last output', () => {
  let out = '';
  const p = new TtyBuildProgress({ write: (s: string) => (out += s) }, 60);
  p.internal('[internal] load build definition from Dockerfile', '');
  p.event({ type: 'step', vertex: 1, name: '[1/3] FROM busybox' });
  p.event({ type: 'done', vertex: 1, cached: false, ms: 0 });
  p.event({ type: 'step', vertex: 2, name: '[2/3] COPY . /app' });
  p.event({ type: 'done', vertex: 2, cached: true, ms: 0 });
  p.event({ type: 'step', vertex: 3, name: '[3/3] RUN echo building' });
  p.event({ type: 'log', vertex: 3, data: 'building\n' });
  const running = p.render(Date.now(), false);
  assert.match(running[0]!, /^\[\+\] Building \d+\.\ds \(3\/4\)$/);
  assert.match(running[2]!, /^ => \[1\/3\] FROM busybox +0\.0s$/);
  assert.match(running[3]!, /^ => CACHED \[2\/3\] COPY \. \/app +0\.0s$/);
  assert.match(running[4]!, /^ => \[3\/3\] RUN echo building +\d+\.\ds$/);
  assert.equal(running[5], ' => => # building');
  assert.ok(running.every((l) => l.length <= 60));
  p.event({ type: 'done', vertex: 3, cached: false, ms: 1200 });
  p.exported('sha256:abc', []);
  p.stop(true);
  assert.match(out, /\[\+\] Building \d+\.\ds \(5\/5\) FINISHED\n/);
  assert.match(out, / => \[3\/3\] RUN echo building +1\.2s\n/);
  assert.match(out, / => exporting to image +0\.0s\n/);
});
