// `extends`: a service starts from another service (same file or another file), which is
// resolved first, then the extending service is merged over it with the usual merge rules.
import { ComposeError, type Dict } from '../types.js';
import { mergeValue, strip } from './merge.js';
import { Override } from './yaml.js';

/** loads another compose file into canonical form with absolute paths (provided by the loader) */
export type FileLoader = (file: string) => Promise<Dict>;

export async function applyExtends(model: Dict, file: string, load: FileLoader): Promise<Dict> {
  const services = model.services as Dict | undefined;
  if (!services || typeof services !== 'object' || services instanceof Override) return model;
  const out: Dict = {};
  for (const name of Object.keys(services)) {
    out[name] = await resolveService(name, services, file, load, []);
  }
  return { ...model, services: out };
}

async function resolveService(name: string, services: Dict, file: string, load: FileLoader, chain: string[]): Promise<unknown> {
  const raw = services[name];
  const svc = raw instanceof Override ? (raw.value as Dict) : (raw as Dict);
  if (!svc || typeof svc !== 'object' || !svc.extends) return raw;
  const key = `${file}#${name}`;
  if (chain.includes(key)) {
    throw new ComposeError(`Circular reference with extends: ${[...chain, key].map((k) => k.split('#')[1]).join(' -> ')}`);
  }
  const ext = svc.extends as Dict;
  const baseName = String(ext.service);
  let baseServices = services;
  let baseFile = file;
  if (typeof ext.file === 'string') {
    baseFile = ext.file;
    const other = await load(baseFile);
    baseServices = (other.services as Dict | undefined) ?? {};
  }
  if (!(baseName in baseServices)) {
    throw new ComposeError(`cannot extend service "${name}" in ${file}: service "${baseName}" not found in ${baseFile}`);
  }
  const base = (await resolveService(baseName, baseServices, baseFile, load, [...chain, key])) as Dict;
  const own: Dict = { ...svc };
  delete own.extends;
  const merged = mergeValue(strip(base), own, ['services', '*']) as Dict;
  return raw instanceof Override ? new Override(merged) : merged;
}

