import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { ContentStore } from '../stores/content-store.js';
import type { BlobSources } from './blob-sources.js';

// pigz by absolute host path (DESIGN.md): parallel, and with -n its output only depends on the input,
// so the same layer always becomes the same blob and a second push finds it on the registry.
const PIGZ = '/usr/bin/pigz';

export const UNCOMPRESSED_LAYER_TYPES: Record<string, string> = {
  'application/vnd.oci.image.layer.v1.tar': 'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

function gzipStream(src: Readable): Readable {
  if (!fs.existsSync(PIGZ)) return src.pipe(createGzip({ level: 6 }));
  const child = spawn(PIGZ, ['-c', '-n', '-6'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  pipeline(src, child.stdin).catch((e: Error) => child.stdout.destroy(e));
  child.on('close', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`pigz exited with ${code}: ${err.trim()}`));
  });
  return child.stdout;
}

/**
 * The gzip blob to push for an uncompressed local layer, as dockerd compresses
 * on push: made once into the content store and remembered.
 */
export async function gzipLayer(content: ContentStore, known: BlobSources, digest: string): Promise<{ digest: string; size: number }> {
  const have = known.compressed(digest);
  if (have && (await content.has(have.digest))) return have;
  const gz = await content.ingest(gzipStream(content.createReadStream(digest)));
  await known.setCompressed(digest, gz);
  return gz;
}
