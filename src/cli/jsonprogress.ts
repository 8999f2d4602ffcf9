// Plain rendering of docker's JSON message streams (pull, load, import) for non-terminals,
// after docker's jsonmessage: `id: status`, progress bars only on a terminal.
import type { Readable, Writable } from 'node:stream';
import { readJSONStream } from './client.js';

export function formatMessage(m: Record<string, any>, tty: boolean): string | undefined {
  if (typeof m.stream === 'string') return m.stream;
  if (m.status === undefined && m.id === undefined) return undefined;
  let line = '';
  if (m.id) line += `${m.id}: `;
  line += m.status ?? '';
  if (m.progressDetail && m.progressDetail.current !== undefined) {
    // per-chunk progress is only useful as a redrawn bar
    if (!tty) return undefined;
    if (m.progress) line += ' ' + m.progress;
  }
  return line + '\n';
}

export async function renderJSONStream(src: Readable, out: Writable, tty = false): Promise<Record<string, any>[]> {
  const aux: Record<string, any>[] = [];
  await readJSONStream(src, (m) => {
    if (m.aux) aux.push(m.aux);
    const s = formatMessage(m, tty);
    if (s !== undefined) out.write(s);
  });
  return aux;
}
