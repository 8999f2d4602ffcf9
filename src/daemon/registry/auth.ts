import type { AuthConfig } from '../../common/registry-auth.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { RegistryError } from './errors.js';

interface CachedToken {
  token: string;
  expires: number;
}

/**
 * Answers a registry's WWW-Authenticate challenge for one client session:
 * Basic from the credentials, Bearer tokens fetched from the realm with the
 * needed scope and cached until they expire.
 */
export class Authorizer {
  private challenge: Challenge | undefined;
  private tokens = new Map<string, CachedToken>();

  constructor(
    private readonly creds: AuthConfig,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  get hasChallenge(): boolean {
    return this.challenge !== undefined;
  }

  /** Remembers the challenge of a 401 answer; false when it offers nothing we speak. */
  learn(header: string | null): boolean {
    const chs = parseChallenges(header);
    const pick = chs.find((c) => c.scheme === 'bearer') ?? chs.find((c) => c.scheme === 'basic');
    if (!pick) return false;
    this.challenge = pick;
    return true;
  }

  private basic(): string {
    if (!this.creds.username) throw new RegistryError('no basic auth credentials', 401, 'UNAUTHORIZED');
    return 'Basic ' + Buffer.from(`${this.creds.username}:${this.creds.password ?? ''}`).toString('base64');
  }

  /** The Authorization header value for `scopes`, or undefined before any challenge. */
  async header(scopes: string[]): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') return this.basic();
    if (this.creds.registrytoken) return 'Bearer ' + this.creds.registrytoken;
    const key = scopes.join(' ');
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return 'Bearer ' + cached.token;
    const tok = await this.fetchToken(ch, scopes);
    this.tokens.set(key, tok);
    return 'Bearer ' + tok.token;
  }

  private async fetchToken(ch: Challenge, scopes: string[]): Promise<CachedToken> {
    const realm = ch.params.realm;
    if (!realm) throw new RegistryError('no realm specified for token auth challenge', 401);
    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    if (this.creds.username) url.searchParams.set('account', this.creds.username);
    const headers: Record<string, string> = {};
    if (this.creds.username) headers.authorization = this.basic();
    const res = await this.fetchImpl(url, { headers });
    const text = await res.text();
    if (!res.ok) {
      let detail = text.trim();
      try {
        const j = JSON.parse(text);
        detail = j.details ?? j.errors?.[0]?.message ?? detail;
      } catch {
        /* raw text */
      }
      throw new RegistryError(res.status === 401 ? `unauthorized: ${detail || 'authentication required'}` : `token request failed with status: ${res.status}`, res.status === 401 ? 401 : 500);
    }
    let j: any;
    try {
      j = JSON.parse(text);
    } catch {
      throw new RegistryError('invalid token response', 500);
    }
    const token = j.token ?? j.access_token;
    if (typeof token !== 'string' || !token) throw new RegistryError('authorization server did not include a token in the response', 500);
    // distribution's minimum lifetime is 60s; renew a little early so a request never carries a stale token.
    const life = Math.max(Number(j.expires_in) || 60, 60) * 1000;
    const issued = Date.parse(j.issued_at ?? '') || Date.now();
    return { token, expires: issued + life - 10_000 };
  }
}
