import type { AuthConfig } from '../../common/registry-auth.js';
import { fullName, referenceString, type Reference } from '../../common/reference.js';
import { sha256 } from '../stores/content-store.js';
import type { ImageService } from '../services/image-service.js';
import { MT_OCI_MANIFEST, RepositoryClient } from './client.js';
import { endpointFor } from './endpoint.js';
import { status, throttled, type Emit } from './progress.js';
import { Transform } from 'node:stream';

const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

/**
 * Pushes the image `ref` names (name:tag, already resolved to `imageId`):
 * layers that the registry has are skipped, the rest uploaded monolithically
 * (3 at a time), then the config and the manifest as stored.
 */
export async function push(images: ImageService, ref: Reference, imageId: string, emit: Emit, creds: AuthConfig, concurrency = 3): Promise<{ digest: string; size: number }> {
  const client = new RepositoryClient(endpointFor(ref.domain), ref.path, creds, true);
  const img = images.store.get(imageId)!;
  const manBytes = await images.content.read(img.manifest);
  const man = JSON.parse(manBytes.toString('utf8'));
  const cfg = await images.content.readJson(imageId);
  const diffIds: string[] = cfg.rootfs?.diff_ids ?? [];
  const layers: Array<{ digest: string; size: number }> = man.layers ?? [];

  // Every layer shows up as Preparing before any transfer starts, like dockerd.
  const ids = layers.map((l, i) => short(diffIds[i] ?? l.digest));
  for (const id of ids) emit(status(id, 'Preparing'));
  await client.authorize();

  const tick = throttled(emit);
  const one = async (i: number) => {
    const l = layers[i]!;
    const id = ids[i]!;
    if (await client.hasBlob(l.digest)) {
      emit(status(id, 'Layer already exists'));
      return;
    }
    let cur = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _e, cb) {
        cur += chunk.length;
        tick(id, 'Pushing', cur, l.size);
        cb(null, chunk);
      },
    });
    emit(status(id, 'Pushing'));
    await client.uploadBlob(l.digest, l.size, images.content.createReadStream(l.digest).pipe(counter));
    emit(status(id, 'Pushed'));
  };
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, layers.length) }, async () => {
    while (next < layers.length) await one(next++);
  });
  await Promise.all(workers);

  if (!(await client.hasBlob(imageId))) {
    const size = await images.content.size(imageId);
    await client.uploadBlob(imageId, size, images.content.createReadStream(imageId));
  }
  const tag = ref.tag ?? 'latest';
  await client.putManifest(tag, man.mediaType ?? MT_OCI_MANIFEST, manBytes);
  const digest = sha256(manBytes);
  emit({ status: `${tag}: digest: ${digest} size: ${manBytes.length}` });
  emit({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manBytes.length } });
  const digestRef = referenceString({ domain: ref.domain, path: ref.path, digest });
  await images.store.update(() => images.store.setRef(digestRef, imageId));
  return { digest, size: manBytes.length };
}

/** `The push refers to repository [127.0.0.1:5000/test/box]`: the full name, docker.io included. */
export function pushHeader(ref: Reference): object {
  return { status: `The push refers to repository [${fullName(ref)}]` };
}
