/**
 * WWW-Authenticate parsing (RFC 7235 as distribution's registry/client/auth
 * reads it): several challenges, each a scheme and quoted or token params.
 */

export interface Challenge {
  /** lower-case: `basic`, `bearer` */
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenges(header: string | null | undefined): Challenge[] {
  const out: Challenge[] = [];
  if (!header) return out;
  let i = 0;
  const s = header;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const token = () => {
    const start = i;
    while (i < s.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipWs();
    while (s[i] === ',') {
      i++;
      skipWs();
    }
    const scheme = token();
    if (!scheme) break;
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    for (;;) {
      skipWs();
      const save = i;
      const key = token();
      skipWs();
      if (!key || s[i] !== '=') {
        // Not a param: either the next challenge's scheme or the end.
        i = save;
        break;
      }
      i++;
      skipWs();
      let val = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          val += s[i++];
        }
        i++;
      } else {
        val = token();
      }
      ch.params[key.toLowerCase()] = val;
      skipWs();
      if (s[i] === ',') i++;
      else break;
    }
  }
  return out;
}
