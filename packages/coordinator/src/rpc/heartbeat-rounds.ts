/**
 * HeartbeatRounds spreads one heartbeat to every connected agent over an interval, a slice per
 * tick, instead of writing to all of them in one loop turn: with 10,000 agents that turn took
 * 100-170 ms every 5 s (bench-fleet, --cpu-prof), and an API request arriving meanwhile waited it out.
 *
 * A round takes a snapshot of the sessions at its first tick and visits the k-th slice at its k-th
 * tick. Sessions keep their order from round to round (a Map's insertion order), and those that
 * leave only move the rest forward, so each session is visited at most one tick later than an
 * interval after its last visit; sessions that arrive meanwhile wait for the next round.
 */
export interface HeartbeatRounds<T> {
  /** tick returns the sessions due at this tick, taking a new snapshot from `current` when a round begins. */
  tick(current: () => Iterable<T>): readonly T[];
}

/** createHeartbeatRounds makes rounds of `ticksPerRound` ticks (at least 1). */
export function createHeartbeatRounds<T>(ticksPerRound: number): HeartbeatRounds<T> {
  if (!Number.isInteger(ticksPerRound) || ticksPerRound < 1) throw new RangeError(`ticksPerRound must be a positive integer, got ${ticksPerRound}`);
  let round: T[] = [];
  let perTick = 0;
  let next = ticksPerRound; // the tick within the round; a round begins at the first tick
  return {
    tick(current) {
      if (next === ticksPerRound) {
        round = [...current()];
        perTick = Math.ceil(round.length / ticksPerRound);
        next = 0;
      }
      const slice = round.slice(next * perTick, (next + 1) * perTick);
      next++;
      if (next === ticksPerRound) round = []; // not held until the next round
      return slice;
    },
  };
}
