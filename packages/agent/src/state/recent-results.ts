/**
 * Results the coordinator has already acknowledged, kept for a while so that a command redelivered
 * after its ack (a coordinator that restarted before it persisted, a duplicate in flight) is answered
 * with the same result instead of being run again. Bounded: the newest `capacity` results stay on
 * disk (so this also holds across an agent restart); memory holds only their ids, oldest first.
 */
import type { ResultStore, StoredResult } from './results.js';

/** DEFAULT_RECENT_RESULTS is how many acknowledged results an agent remembers. */
export const DEFAULT_RECENT_RESULTS = 100;

/** RecentResults remembers the last acknowledged results, on disk, up to a fixed count. */
export class RecentResults {
  private readonly order: string[];

  constructor(
    private readonly store: ResultStore,
    private readonly capacity = DEFAULT_RECENT_RESULTS,
  ) {
    this.order = store.pending().map((r) => r.commandId);
    this.trim();
  }

  /** remember keeps an acknowledged result, forgetting the oldest beyond the capacity. */
  remember(result: StoredResult): void {
    const known = this.order.indexOf(result.commandId);
    if (known >= 0) this.order.splice(known, 1);
    this.store.save(result);
    this.order.push(result.commandId);
    this.trim();
  }

  /** get returns a remembered result. */
  get(commandId: string): StoredResult | undefined {
    return this.order.includes(commandId) ? this.store.get(commandId) : undefined;
  }

  /** size is how many results are remembered now. */
  get size(): number {
    return this.order.length;
  }

  private trim(): void {
    while (this.order.length > this.capacity) {
      const oldest = this.order.shift();
      if (oldest !== undefined) this.store.acknowledge(oldest);
    }
  }
}
