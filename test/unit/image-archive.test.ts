import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { ArchiveReader, archiveImages, writeArchive } from '../../src/daemon/services/image-archive.js';
import { sha256 } from '../../src/daemon/stores/content-store.js';

const blob = (s: string) => ({ digest: sha256(s), size: Buffer.byteLength(s), open: () => Readable.from([Buffer.from(s)]) });

test('writes docker save layout (OCI + manifest.json) and reads it back, also as OCI layout only', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-arch-'));
  try {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c) => chunks.push(c));
    await writeArchive([{ config: blob('{"c":1}'), manifest: { ...blob('{"m":1}'), mediaType: 'application/vnd.oci.image.manifest.v1+json' }, layers: [blob('L1')], repoTags: ['busybox:latest'], fullNames: ['docker.io/library/busybox:latest'] }], out);
    const r = await ArchiveReader.read(Readable.from([Buffer.concat(chunks)]), path.join(dir, 'x'));
    assert.deepEqual(await r.json('manifest.json'), [{ Config: `blobs/sha256/${sha256('{"c":1}').slice(7)}`, RepoTags: ['busybox:latest'], Layers: [`blobs/sha256/${sha256('L1').slice(7)}`] }]);
    assert.deepEqual(await r.json('oci-layout'), { imageLayoutVersion: '1.0.0' });
    const idx = await r.json('index.json');
    assert.equal(idx.manifests[0].annotations['io.containerd.image.name'], 'docker.io/library/busybox:latest');
    assert.equal(idx.manifests[0].annotations['org.opencontainers.image.ref.name'], 'latest');
    const imgs = await archiveImages(r, { os: 'linux', architecture: 'amd64' });
    assert.equal(imgs.length, 1);
    assert.deepEqual(imgs[0]!.names, ['busybox:latest']);
    assert.equal(await fsp.readFile(imgs[0]!.layers[0]!, 'utf8'), 'L1');
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('an archive without manifest.json or index.json is refused', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-arch-'));
  try {
    const r = await ArchiveReader.read(Readable.from([Buffer.alloc(1024)]), path.join(dir, 'x'));
    await assert.rejects(archiveImages(r, { os: 'linux', architecture: 'amd64' }), /no manifest.json or index.json/);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
