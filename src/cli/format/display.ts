// Small display helpers from docker/cli's formatter package.

import { displayWidth } from './tabwriter.js';

/** stringid.TruncateID: drop an "algo:" prefix, keep 12 characters. */
export function truncateID(id: string): string {
  const i = id.indexOf(':');
  if (i >= 0) id = id.slice(i + 1);
  return id.length > 12 ? id.slice(0, 12) : id;
}

/** formatter.Ellipsis: cut to a display width, ending in "…". */
export function ellipsis(s: string, maxDisplayWidth: number): string {
  if (maxDisplayWidth <= 0) return '';
  const rs = [...s];
  if (maxDisplayWidth === 1) return rs[0] ?? '';
  if (Buffer.byteLength(s, 'utf8') === rs.length) {
    if (rs.length <= maxDisplayWidth) return s;
    return rs.slice(0, maxDisplayWidth - 1).join('') + '…';
  }
  const display: number[] = [];
  let w = 0;
  for (const r of rs) {
    w += displayWidth(r) === 2 ? 2 : 1;
    display.push(w);
  }
  if (w <= maxDisplayWidth) return s;
  for (let i = 0; i < display.length - 1; i++) {
    if (display[i]! <= maxDisplayWidth - 1 && display[i + 1]! > maxDisplayWidth - 1) {
      return rs.slice(0, i + 1).join('') + '…';
    }
  }
  return s;
}

function zoneName(d: Date): string {
  const off = -d.getTimezoneOffset();
  if (off === 0) return 'UTC';
  const name = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value;
  if (name && !/^(GMT|UTC)/.test(name)) return name;
  const a = Math.abs(off);
  const mm = a % 60;
  return (off < 0 ? '-' : '+') + String(Math.floor(a / 60)).padStart(2, '0') + (mm ? String(mm).padStart(2, '0') : '');
}

function offset(d: Date, colon: boolean): string {
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return (off < 0 ? '-' : '+') + String(Math.floor(a / 60)).padStart(2, '0') + (colon ? ':' : '') + String(a % 60).padStart(2, '0');
}

const p2 = (n: number): string => String(n).padStart(2, '0');

function localParts(d: Date): string {
  return `${String(d.getFullYear()).padStart(4, '0')}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
}

/** Go's time.Unix(sec, 0).String() in local time: "2006-01-02 15:04:05 -0700 MST". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${localParts(d)} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${offset(d, false)} ${zoneName(d)}`;
}

/** time.Unix(sec, 0).Format(time.RFC3339) in local time. */
export function goRFC3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const z = d.getTimezoneOffset() === 0 ? 'Z' : offset(d, true);
  return `${localParts(d)}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}${z}`;
}
