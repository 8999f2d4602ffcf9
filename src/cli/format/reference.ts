// Familiar image names for list output, from the shared reference grammar.
import { parseNormalized, familiarName, familiarString, type Reference } from '../../common/reference.js';

export type ParsedRef = Reference;

/** ParseNormalizedNamed; null when the string is not a valid reference. */
export function parseNormalizedNamed(s: string): ParsedRef | null {
  try {
    return parseNormalized(s);
  } catch {
    return null;
  }
}

export { familiarName, familiarString };
