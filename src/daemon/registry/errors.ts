/** Errors from a registry, worded as docker's distribution client words them. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    message: string,
    readonly status: number,
    /** distribution error code, e.g. MANIFEST_UNKNOWN */
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Code of failures where the registry's bytes do not match what it promised
 * (distribution's DIGEST_INVALID): a pull that hits one keeps nothing of it.
 */
export const INTEGRITY = 'DIGEST_INVALID';

/** `manifest unknown: manifest unknown` from distribution's `{"errors":[…]}` body. */
export function formatRegistryErrors(status: number, body: string): { message: string; code?: string } {
  try {
    const j = JSON.parse(body);
    const errs: any[] = Array.isArray(j?.errors) ? j.errors : [];
    if (errs.length) {
      const parts = errs.map((e) => `${String(e.code ?? 'unknown').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`);
      return { message: parts.join(', '), code: errs[0].code };
    }
  } catch {
    /* not JSON */
  }
  if (status === 401) return { message: 'unauthorized: authentication required', code: 'UNAUTHORIZED' };
  return { message: `unexpected status code ${status}` };
}
