/**
 * Which coordinator endpoint to try next, as pure functions over endpoint keys (no I/O, no timers).
 *
 * A round tries each endpoint once, starting after the one tried last; only when a whole round has
 * failed does the caller wait its backoff delay, so a dead replica costs one quick attempt instead
 * of a delay. The first round starts at a random endpoint, which spreads a fleet over the replicas.
 * A stream that was welcomed and then ended counts as the first failure of the next round: with
 * one endpoint that round is over at once (the delay comes before redialling it, as it always
 * has), with several the next one is tried at once.
 *
 *   endpoints [A, B, C], started at B:   B ✗ → C ✗ → A ✗ → delay → (look up again) B ✗ → C ✓ …
 *   C's stream ends:                      A ✗ → B ✗ → delay → C …   (C's end counted as the first)
 */

/** Round is the endpoints of one round (keys, in dialling order) and how far it has come. */
export interface Round {
  readonly keys: readonly string[];
  /** Index in `keys` of the endpoint to try next. */
  readonly next: number;
  /** How many more attempts this round makes before a delay is due. */
  readonly left: number;
}

/**
 * beginRound starts a round over `keys` (non-empty, distinct). Without `after` it starts at a
 * random endpoint (`random` in [0, 1)); else at the one after `after`, or at a random one when
 * `after` is no longer listed. `afterFailed` says `after`'s failure already counts in this round
 * (a welcomed stream that ended), so the round makes one attempt fewer.
 */
export function beginRound(keys: readonly string[], random: number, after?: string, afterFailed = false): Round {
  if (keys.length === 0) throw new Error('a round needs at least one endpoint');
  const at = after === undefined ? -1 : keys.indexOf(after);
  const next = at === -1 ? Math.min(keys.length - 1, Math.floor(Math.max(0, random) * keys.length)) : (at + 1) % keys.length;
  return { keys, next, left: keys.length - (afterFailed && at !== -1 ? 1 : 0) };
}

/** TakeResult is the endpoint to try now and the round after it, or undefined when the round is over. */
export type TakeResult = { key: string; round: Round } | undefined;

/** take gives the round's next endpoint, or undefined when every endpoint of the round has failed. */
export function take(round: Round): TakeResult {
  if (round.left <= 0) return undefined;
  const key = round.keys[round.next]!;
  return { key, round: { keys: round.keys, next: (round.next + 1) % round.keys.length, left: round.left - 1 } };
}
