// The seeds' most common build step: `apt-get install` in a RUN step of a Debian image. The base
// image is made here from the Debian mirror with mmdebstrap (Docker Hub is not reachable), and the
// RUN step reaches the mirror through the default bridge's NAT and the host's resolvers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestDaemon, run } from '../helpers/daemon.js';

const MMDEBSTRAP = '/usr/bin/mmdebstrap';
const MIRROR = 'http://deb.debian.org/debian';
const d = new TestDaemon();

before(async () => {
  await d.start();
  const rootfs = path.join(d.dir, 'bookworm.tar');
  const made = await run(MMDEBSTRAP, ['--variant=minbase', '--quiet', 'bookworm', rootfs, MIRROR], { timeoutMs: 300_000 });
  if (made.code !== 0) throw new Error(`mmdebstrap failed: ${made.stderr}`);
  const imported = await d.berth(['import', '-c', 'CMD ["bash"]', rootfs, 'debian:bookworm'], { timeoutMs: 120_000 });
  if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
  fs.rmSync(rootfs);
});

after(async () => {
  await d.cleanup();
});

test('apt-get install in a RUN step of a Debian image, then the program runs', async () => {
  const ctx = path.join(d.dir, 'ctx');
  fs.mkdirSync(ctx);
  fs.writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      'FROM debian:bookworm',
      'RUN apt-get update && apt-get install -y --no-install-recommends hello && rm -rf /var/lib/apt/lists/*',
      'CMD ["hello"]',
      '',
    ].join('\n'),
  );
  const built = await d.berth(['build', '--progress=plain', '-t', 'hello-deb', ctx], { timeoutMs: 300_000 });
  assert.equal(built.code, 0, built.stderr + built.stdout);
  assert.match(built.stderr + built.stdout, /Setting up hello/);
  const ran = await d.berth(['run', '--rm', 'hello-deb']);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, 'Hello, world!\n');
  // The same step again is a cache hit, not a second download.
  const again = await d.berth(['build', '--progress=plain', '-t', 'hello-deb', ctx], { timeoutMs: 60_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr + again.stdout, /CACHED/);
  assert.doesNotMatch(again.stderr + again.stdout, /Setting up hello/);
});
