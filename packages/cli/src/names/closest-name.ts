/**
 * The "did you mean" of a mistyped name: the existing name nearest to what was typed, when it is near
 * enough to be a typo rather than a different name. Pure.
 */
import { distance } from 'fastest-levenshtein';

/**
 * closestName is the candidate a typo of `typed` most likely meant: the same name in other case, else
 * the one fewest edits away, within a third of the name's length (at least 2). Examples:
 * closestName('shpo', ['shop', 'blog']) → 'shop'; closestName('billing', ['shop']) → undefined.
 */
export function closestName(typed: string, candidates: readonly string[]): string | undefined {
  const sameCase = candidates.find((c) => c.toLowerCase() === typed.toLowerCase());
  if (sameCase !== undefined) return sameCase;
  const limit = Math.max(2, Math.floor(typed.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = distance(typed.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}
