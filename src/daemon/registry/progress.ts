import { humanSize } from '../../common/units.js';

export type Emit = (msg: object) => void;

/** docker's jsonmessage progress text: `[=====>      ]    1.2MB/3.4MB` (bar of 50, current padded to 8). */
export function progressBar(current: number, total: number): string {
  let bar = '';
  if (total > 0 && current <= total) {
    const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
    bar = `[${'='.repeat(pct)}>${' '.repeat(50 - pct)}] `;
  }
  const cur = humanSize(current).padStart(8);
  return total > 0 ? `${bar}${cur}/${humanSize(total)}` : cur;
}

export function status(id: string, s: string): object {
  return { status: s, progressDetail: {}, id };
}

export function progress(id: string, s: string, current: number, total: number): object {
  return { status: s, progressDetail: { current, total }, progress: progressBar(current, total), id };
}

/** Rate-limits progress messages per id, as dockerd's progress reader does (~every 100ms). */
export function throttled(emit: Emit, everyMs = 100): (id: string, s: string, cur: number, total: number) => void {
  const last = new Map<string, number>();
  return (id, s, cur, total) => {
    const now = Date.now();
    if (cur < total && now - (last.get(id) ?? 0) < everyMs) return;
    last.set(id, now);
    emit(progress(id, s, cur, total));
  };
}
