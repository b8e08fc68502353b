/**
 * The engine asks its agent link when an instance's agent went offline, synchronously, for the
 * status message of a command that waits for it (deployment/engine.ts's `waiting`). On SQLite the
 * agent server reads the session row at once; on PostgreSQL a read is a round trip, so this answers
 * from the sessions it read before and reads the instance's again in the background when its copy
 * is missing or older than `maxAgeMs`. A first question about an instance thus answers "unknown"
 * (the message then says "never connected" until the next one), which only words a message: the
 * engine times agents out from what it sees itself.
 *
 * The engine asks from inside its transactions; the read runs in the async context the lookup was
 * made in (the composition root's, outside any transaction), or the store would take it for a call
 * that bypasses the transaction's handle and refuse it.
 */
import { AsyncResource } from 'node:async_hooks';
import type { AgentSessionRecord, AgentSessionStore } from './agent-sessions.js';
import type { AsyncAgentSessionStore } from '../store/pg/pg-side-stores.js';

/** CachedSessionLookupOptions: how old a copy may be, the clock (ms), how many copies are kept, and where a failed read is reported. */
export interface CachedSessionLookupOptions {
  maxAgeMs: number;
  now: () => number;
  maxEntries: number;
  failed: (err: unknown, instanceName: string) => void;
}

/** cachedSessionLookup answers `get` from the copies it holds, refreshing them in the background. */
export function cachedSessionLookup(sessions: Pick<AsyncAgentSessionStore, 'get'>, options: CachedSessionLookupOptions): Pick<AgentSessionStore, 'get'> {
  const copies = new Map<string, { session: AgentSessionRecord | undefined; readAt: number }>();
  const reading = new Set<string>();
  const outside = new AsyncResource('fleetdeploy.session-lookup');
  const readAgain = (name: string): void => {
    if (reading.has(name)) return;
    reading.add(name);
    outside.runInAsyncScope(() => sessions.get(name)).then(
      (session) => {
        copies.delete(name); // re-inserted last: the Map's order is the eviction order
        copies.set(name, { session, readAt: options.now() });
        if (copies.size > options.maxEntries) copies.delete(copies.keys().next().value!);
      },
      (err: unknown) => options.failed(err, name),
    ).finally(() => reading.delete(name));
  };
  return {
    get(name) {
      const copy = copies.get(name);
      if (copy === undefined || options.now() - copy.readAt >= options.maxAgeMs) readAgain(name);
      return copy?.session;
    },
  };
}
