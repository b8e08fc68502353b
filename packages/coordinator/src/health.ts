/**
 * What /healthz answers: whether the coordinator does its work, not only whether its HTTP server
 * answers. It is unavailable until the deployment engine has started, once the engine found its
 * database damaged, while it shuts down, and whenever the store is closed.
 */

/** HealthReport is /healthz's answer: ok, or why not. */
export type HealthReport = { ok: true } | { ok: false; reason: string };

/** CoordinatorHealth moves through starting → serving → stopping; `failed` keeps its first reason until stopping. */
export interface CoordinatorHealth {
  report(): HealthReport;
  /** serving: the engine and the traffic driver have started. */
  serving(): void;
  /** failed: the engine cannot go on (its database is damaged); the reason is shown as is. */
  failed(reason: string): void;
  stopping(): void;
}

type State = { phase: 'starting' | 'serving' | 'stopping' } | { phase: 'failed'; reason: string };

const REASONS = {
  starting: 'the deployment engine has not started yet',
  stopping: 'the coordinator is shutting down',
} as const;

/** createHealth starts in `starting`; `storeOpen` is asked on every report. */
export function createHealth(storeOpen: () => boolean): CoordinatorHealth {
  let state: State = { phase: 'starting' };
  return {
    report() {
      if (state.phase === 'stopping' || state.phase === 'starting') return { ok: false, reason: REASONS[state.phase] };
      if (state.phase === 'failed') return { ok: false, reason: state.reason };
      if (!storeOpen()) return { ok: false, reason: 'the database is closed' };
      return { ok: true };
    },
    serving() {
      if (state.phase === 'starting') state = { phase: 'serving' };
    },
    failed(reason) {
      if (state.phase === 'starting' || state.phase === 'serving') state = { phase: 'failed', reason }; // the first cause is the one to fix
    },
    stopping() {
      state = { phase: 'stopping' };
    },
  };
}
