/**
 * Image references after distribution/reference: the grammar, docker.io
 * normalisation, the familiar form docker prints, and docker's error texts.
 * Shared by daemon and CLI; feeds paths and registry hosts, so it is strict.
 */

export interface Reference {
  /** Registry host, e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path without domain, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

export class ReferenceError extends Error {
  override name = 'ReferenceError';
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const host = `(?:${domainName}|${ipv6})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const namePat = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;

const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${pathComponent}(?:/${pathComponent})*)$`);
const ANCHORED_TAG_RE = new RegExp(`^${tagPat}$`);
const ANCHORED_DIGEST_RE = new RegExp(`^${digestPat}$`);
const HEX64_RE = /^[a-f0-9]{64}$/;

function validateDigest(d: string): void {
  // distribution's digest package: sha256 needs exactly 64 lowercase hex characters.
  const [alg, hex] = d.split(':') as [string, string];
  if (alg === 'sha256' && !/^[a-f0-9]{64}$/.test(hex)) throw new ReferenceError('invalid checksum digest format');
  if (alg === 'sha512' && !/^[a-f0-9]{128}$/.test(hex)) throw new ReferenceError('invalid checksum digest format');
  if (alg !== 'sha256' && alg !== 'sha512' && alg !== 'sha384') throw new ReferenceError('unsupported digest algorithm');
}

/**
 * distribution's `reference.Parse`: the string as written, no docker.io
 * defaulting (so `library/busybox` has domain `library`; callers that want
 * docker's meaning use `parseNormalized`).
 */
export function parseReference(s: string): Reference {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (s === '') throw new ReferenceError('repository name must have at least one component');
    if (REFERENCE_RE.exec(s.toLowerCase())) throw new ReferenceError('repository name must be lowercase');
    throw new ReferenceError('invalid reference format');
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw new ReferenceError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const nm = ANCHORED_NAME_RE.exec(name)!;
  const ref: Reference = { domain: nm[1] ?? '', path: nm[2]! };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) {
    validateDigest(m[3]);
    ref.digest = m[3];
  }
  return ref;
}

function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * docker's `ParseNormalizedNamed`: `busybox` → docker.io/library/busybox.
 * Does not add a tag; see `normalize` / `withDefaultTag`.
 */
export function parseNormalized(s: string): Reference {
  if (HEX64_RE.test(s)) throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const { domain, remainder } = splitDockerDomain(s);
  const nameEnd = remainder.search(/[:@]/);
  const remoteName = nameEnd === -1 ? remainder : remainder.slice(0, nameEnd);
  if (remoteName.toLowerCase() !== remoteName) {
    throw new ReferenceError(`invalid reference format: repository name (${remoteName}) must be lowercase`);
  }
  const ref = parseReference(`${domain}/${remainder}`);
  if (!ref.domain) throw new ReferenceError('invalid reference format');
  return ref;
}

/** Adds `latest` when neither tag nor digest is present (docker's TagNameOnly). */
export function withDefaultTag(ref: Reference): Reference {
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: 'latest' };
  return ref;
}

/** Full name without tag or digest: `docker.io/library/busybox`. */
export function fullName(ref: Reference): string {
  return ref.domain ? `${ref.domain}/${ref.path}` : ref.path;
}

/** `docker.io/library/busybox:latest`, the canonical string stored as a key. */
export function referenceString(ref: Reference): string {
  let s = fullName(ref);
  if (ref.tag !== undefined) s += ':' + ref.tag;
  if (ref.digest !== undefined) s += '@' + ref.digest;
  return s;
}

/** Normalises and defaults the tag: `busybox` → `docker.io/library/busybox:latest`. */
export function normalize(s: string): string {
  return referenceString(withDefaultTag(parseNormalized(s)));
}

/** Name as docker shows it: `busybox`, `user/app`, `localhost:5000/x`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  const p = ref.path;
  if (p.startsWith(OFFICIAL_REPO_PREFIX) && !p.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
    return p.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return p;
}

/** `busybox:latest`, `localhost:5000/x:1`, `busybox@sha256:…`. */
export function familiarString(ref: Reference | string): string {
  const r = typeof ref === 'string' ? parseNormalized(ref) : ref;
  let s = familiarName(r);
  if (r.tag !== undefined) s += ':' + r.tag;
  if (r.digest !== undefined) s += '@' + r.digest;
  return s;
}

export function isValidTag(tag: string): boolean {
  return ANCHORED_TAG_RE.test(tag);
}

export function isValidDigest(d: string): boolean {
  return ANCHORED_DIGEST_RE.test(d);
}

/** A full image ID written without its algorithm, which docker takes as an ID (`ParseAnyReference`). */
export function isFullHexId(s: string): boolean {
  return HEX64_RE.test(s);
}

/**
 * Could `s` be a (short) image or container ID? docker tries names first and
 * only then an ID prefix, so this alone never decides; the lookup does.
 */
export function looksLikeIdPrefix(s: string, minLen = 1): boolean {
  const hex = s.startsWith('sha256:') ? s.slice(7) : s;
  return hex.length >= minLen && hex.length <= 64 && /^[a-f0-9]+$/.test(hex);
}

/** docker's TruncateID: strips `sha256:` and keeps 12 characters. */
export function shortId(id: string): string {
  const i = id.indexOf(':');
  return (i === -1 ? id : id.slice(i + 1)).slice(0, 12);
}
