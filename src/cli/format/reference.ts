// Just enough of distribution/reference to show "familiar" image names the
// way docker does (docker.io/library/busybox:latest -> busybox).

export interface ParsedRef {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

/** ParseNormalizedNamed; null when the string is not a valid reference. */
export function parseNormalizedNamed(s: string): ParsedRef | null {
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return null;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return null;
  }
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = 'library/' + path;
  if (path === '' || !path.split('/').every((c) => PATH_COMPONENT.test(c))) return null;
  return { domain, path, tag, digest };
}

/** reference.FamiliarName. */
export function familiarName(r: ParsedRef): string {
  if (r.domain === 'docker.io') {
    return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice(8) : r.path;
  }
  return `${r.domain}/${r.path}`;
}

/** reference.FamiliarString. */
export function familiarString(r: ParsedRef): string {
  return familiarName(r) + (r.tag !== undefined ? ':' + r.tag : '') + (r.digest !== undefined ? '@' + r.digest : '');
}
