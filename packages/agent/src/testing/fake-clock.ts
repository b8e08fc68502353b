/**
 * A Clock for tests: time moves only when the test calls advance(), which fires the timers that
 * fall due, in order. `delays` records every timer's length, so backoff sequences can be asserted.
 */
import type { Clock } from '../clock.js';

/** FakeClock is a controllable {@link Clock}. */
export interface FakeClock extends Clock {
  readonly delays: number[];
  advance(ms: number): void;
  pending(): number;
}

/** createFakeClock starts at `start` ms since the epoch. */
export function createFakeClock(start = 1_700_000_000_000): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const delays: number[] = [];
  return {
    delays,
    now: () => now,
    after(ms, fn) {
      const id = ++seq;
      delays.push(ms);
      timers.set(id, { at: now + ms, fn });
      return () => timers.delete(id);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
    pending: () => timers.size,
  };
}
