/**
 * IPv4 address arithmetic for subnets, gateways and address pools.
 */
import { isIPv4 } from 'node:net';
import { readFileSync } from 'node:fs';

export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const mask = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** Parses "a.b.c.d/n"; the host bits are cleared. Throws docker's "invalid CIDR address" text. */
export function parseCidr(text: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim());
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) throw new Error(`invalid CIDR address: ${text}`);
  const prefix = Number(m[2]);
  return { base: (ipToInt(m[1]!) & mask(prefix)) >>> 0, prefix };
}

/** The address part of "a.b.c.d/n" (for --bip, which names the gateway, not the network). */
export function cidrAddress(text: string): string {
  return text.trim().split('/')[0]!;
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.prefix}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: string): boolean {
  return ((ipToInt(ip) & mask(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

/** True when `inner` lies entirely inside `outer`. */
export function within(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && overlaps(inner, outer);
}

/** First usable host address (docker's default gateway). */
export function firstHost(c: Cidr): string {
  return intToIp(c.base + 1);
}

/** IPv4 routes of the host (the main table), as CIDRs: subnets already in use there clash. */
export function hostRoutes(): Cidr[] {
  const out: Cidr[] = [];
  let text = '';
  try {
    text = readFileSync('/proc/net/route', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = Number.parseInt(f[1]!, 16);
    const m = Number.parseInt(f[7]!, 16);
    if (Number.isNaN(dest) || Number.isNaN(m) || m === 0) continue; // the default route clashes with nothing
    // /proc/net/route prints little-endian hex.
    const le = (n: number) => (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | ((n >>> 24) & 255)) >>> 0;
    const prefix = le(m).toString(2).replace(/0+$/, '').length;
    out.push({ base: le(dest), prefix });
  }
  return out;
}

/**
 * docker's default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s.
 * The first one that overlaps no used subnet is taken.
 */
export function pickSubnet(used: Cidr[]): Cidr | undefined {
  const candidates: Cidr[] = [];
  for (let b = 17; b <= 31; b++) candidates.push({ base: ipToInt(`172.${b}.0.0`), prefix: 16 });
  for (let c = 0; c < 256; c += 16) candidates.push({ base: ipToInt(`192.168.${c}.0`), prefix: 20 });
  return candidates.find((cand) => !used.some((u) => overlaps(cand, u)));
}
