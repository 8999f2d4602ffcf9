import type { Readable, Writable } from 'node:stream';
import type { EventBus } from './events.js';
import type { ImageService } from './image-service.js';
import { familiarString, parseNormalized, withDefaultTag } from '../../common/reference.js';

/**
 * Emits dockerd's image events (tag, untag, delete, import, load, save) around
 * the image service's operations, keeping the service itself free of the bus.
 */
export function emitImageEvents(images: ImageService, events: EventBus): void {
  const emit = async (id: string, action: string, name: string) => {
    const labels: Record<string, string> = await images.resolve(id).then((r) => r.config?.config?.Labels ?? {}).catch(() => ({}));
    events.emit('image', action, id, { ...labels, name });
  };
  const idOf = (ref: string) => images.resolve(ref).then((r) => r.id).catch(() => undefined);

  const tag = images.tag.bind(images);
  images.tag = async (source: string, repo: string, t: string) => {
    await tag(source, repo, t);
    const name = familiarString(withDefaultTag(parseNormalized(repo + (t ? ':' + t : ''))));
    const id = await idOf(name);
    if (id) await emit(id, 'tag', name);
  };

  const remove = images.remove.bind(images);
  images.remove = async (ref, opts) => {
    const id = await idOf(ref);
    const labels: Record<string, string> = id ? await images.resolve(id).then((r) => r.config?.config?.Labels ?? {}).catch(() => ({})) : {};
    const records = await remove(ref, opts);
    if (id) {
      // dockerd names the image by its ID in both events.
      for (const r of records) if (r.Untagged) events.emit('image', 'untag', id, { ...labels, name: id });
      if (records.some((r) => r.Deleted === id)) events.emit('image', 'delete', id, { ...labels, name: id });
    }
    return records;
  };

  const importTar = images.importTar.bind(images);
  images.importTar = async (tarStream: Readable, opts) => {
    const rec = await importTar(tarStream, opts);
    await emit(rec.id, 'import', rec.id);
    return rec;
  };

  const load = images.load.bind(images);
  images.load = async (tarStream: Readable, onProgress: (line: object) => void) => {
    const loaded: string[] = [];
    await load(tarStream, (line) => {
      const m = /^Loaded image(?: ID)?: (\S+)\n?$/.exec((line as { stream?: string }).stream ?? '');
      if (m) loaded.push(m[1]!);
      onProgress(line);
    });
    for (const name of loaded) {
      const id = await idOf(name);
      if (id) await emit(id, 'load', name);
    }
  };

  const save = images.save.bind(images);
  images.save = async (names: string[], out: Writable) => {
    await save(names, out);
    for (const name of names) {
      const id = await idOf(name);
      if (id) await emit(id, 'save', id.endsWith(name) || name === id ? id : familiarString(withDefaultTag(parseNormalized(name))));
    }
  };
}
