// The Engine API calls compose makes, over the CLI's client: project containers by label,
// networks, volumes, images. Nothing here knows about berthd; it would drive dockerd too.
import type { ApiClient } from '../../cli/client.js';
import { httpStatusOf } from '../../cli/client.js';
import { LABEL, projectFilter } from './names.js';
import { observe, type Observed } from './plan.js';

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  State: string;
  Status: string;
  Ports?: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  Labels: Record<string, string>;
  Mounts?: Array<Record<string, unknown>>;
  NetworkSettings?: Record<string, unknown>;
}

export const enc = encodeURIComponent;

export function isNotFound(e: unknown): boolean {
  return httpStatusOf(e) === 404;
}

export interface ListOptions {
  all?: boolean;
  /** true: only `run` containers; false: only service containers; undefined: both */
  oneoff?: boolean;
  services?: string[];
}

export async function listContainers(api: ApiClient, project: string, o: ListOptions = {}): Promise<ContainerSummary[]> {
  const extra = o.oneoff === undefined ? [] : [`${LABEL.oneoff}=${o.oneoff ? 'True' : 'False'}`];
  const list = await api.get<ContainerSummary[]>('/containers/json', { all: o.all ? 1 : undefined, filters: projectFilter(project, extra) });
  const filtered = o.services?.length ? list.filter((c) => o.services!.includes(c.Labels[LABEL.service])) : list;
  return filtered.sort(byServiceAndNumber);
}

export function byServiceAndNumber(a: ContainerSummary, b: ContainerSummary): number {
  const sa = a.Labels[LABEL.service] ?? '';
  const sb = b.Labels[LABEL.service] ?? '';
  if (sa !== sb) return sa < sb ? -1 : 1;
  return Number(a.Labels[LABEL.number] ?? 0) - Number(b.Labels[LABEL.number] ?? 0);
}

export function observedByService(list: ContainerSummary[]): Map<string, Observed[]> {
  const out = new Map<string, Observed[]>();
  for (const c of list) {
    const s = c.Labels[LABEL.service] ?? '';
    if (!out.has(s)) out.set(s, []);
    out.get(s)!.push(observe(c));
  }
  return out;
}

export async function inspectContainer(api: ApiClient, id: string): Promise<any> {
  return api.get(`/containers/${enc(id)}/json`);
}

/** undefined when the image is not there */
export async function imageId(api: ApiClient, ref: string): Promise<string | undefined> {
  try {
    const img = await api.get<{ Id: string }>(`/images/${enc(ref)}/json`);
    return img.Id;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function stopContainer(api: ApiClient, id: string, timeout?: number): Promise<void> {
  try {
    await api.post(`/containers/${enc(id)}/stop`, { t: timeout });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

export async function removeContainer(api: ApiClient, id: string, volumes: boolean): Promise<void> {
  try {
    await api.json('DELETE', `/containers/${enc(id)}`, { query: { force: 1, v: volumes ? 1 : undefined } });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
