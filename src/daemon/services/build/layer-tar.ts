// The layer a COPY/ADD/WORKDIR step adds, written as an uncompressed tar from a list of
// entries (parents before children), the way docker's copier lays it out.
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';

export interface LayerEntry {
  /** path in the image without the leading slash */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size?: number;
  /** host file whose content the entry carries */
  source?: string;
  data?: Buffer;
  linkname?: string;
}

/** sha256 of an empty tar (two zero blocks): a step that changed nothing. */
export const EMPTY_LAYER_DIGEST = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export function layerTar(entries: Iterable<LayerEntry>): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  pack.pipe(out);
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  void (async () => {
    for (const e of sorted) {
      const base = { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
      if (e.type === 'dir') {
        await new Promise<void>((res, rej) => pack.entry({ ...base, name: e.name + '/', type: 'directory' }, (err) => (err ? rej(err) : res())));
      } else if (e.type === 'symlink') {
        await new Promise<void>((res, rej) => pack.entry({ ...base, name: e.name, type: 'symlink', linkname: e.linkname ?? '' }, (err) => (err ? rej(err) : res())));
      } else if (e.data) {
        await new Promise<void>((res, rej) => pack.entry({ ...base, name: e.name, type: 'file', size: e.data!.length }, e.data!, (err) => (err ? rej(err) : res())));
      } else {
        await new Promise<void>((res, rej) => {
          const w = pack.entry({ ...base, name: e.name, type: 'file', size: e.size ?? 0 }, (err) => (err ? rej(err) : res()));
          const r = createReadStream(e.source!);
          r.on('error', rej);
          r.pipe(w);
        });
      }
    }
    pack.finalize();
  })().catch((err: Error) => out.destroy(err));
  return out;
}
