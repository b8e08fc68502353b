/**
 * The order in which to send `set weight` commands when a backend moves from one set of weights to
 * another (pure). HAProxy applies each command at once, so the backend passes through every
 * intermediate state. Raising weights before lowering any keeps at least one server with traffic
 * (a backend whose servers are all at weight 0 answers 503), and moves the green share from the old
 * value towards the new one without crossing zero: at 0 → 100 %, the greens come up before the blues
 * go down.
 *
 *   current { b1: 256, b2: 256, g1: 0,   g2: 0   }
 *   target  { b1: 0,   b2: 0,   g1: 256, g2: 256 }
 *   changes g1 0→256, g2 0→256, b1 256→0, b2 256→0
 */

/** WeightChange is one `set weight` to send. */
export interface WeightChange {
  server: string;
  from: number;
  to: number;
}

/**
 * weightChanges lists the servers whose weight differs between `current` and `target`, raises first
 * (in `target`'s order), then lowers. A server of `target` that `current` lacks is an error naming it:
 * its weight is unknown, so the order could be wrong.
 */
export function weightChanges(current: Readonly<Record<string, number>>, target: Readonly<Record<string, number>>): WeightChange[] {
  const changes = Object.entries(target).map(([server, to]) => {
    const from = current[server];
    if (from === undefined) throw new RangeError(`server '${server}' has a target weight but no current weight`);
    return { server, from, to };
  });
  return [...changes.filter((c) => c.to > c.from), ...changes.filter((c) => c.to < c.from)];
}
