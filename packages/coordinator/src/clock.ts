/**
 * Clock is the coordinator's only source of time and timers, so that the engine can be driven by a
 * fake clock in tests and the pure planner never reads the time itself.
 */

/** Timer is a handle from {@link Clock.setTimeout}. */
export interface Timer {
  cancel(): void;
}

/** Clock gives the time in epoch milliseconds and schedules callbacks. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
}

/** systemClock is the real clock; its timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
