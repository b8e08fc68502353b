/**
 * promised presents a synchronous side store (the SQLite ones: bucket, access keys, certificates,
 * agent sessions, trigger outbox, blob references) with the asynchronous shape of its PostgreSQL
 * counterpart (store/pg/pg-side-stores.ts), so callers and the contract suites
 * (testing/side-store-contract.ts) treat both alike. A call still runs at once; a throw becomes a
 * rejection.
 */
import type { Promised } from './async-store.js';

/** PromisedMethods is an object's methods, each returning a Promise of its result. */
export type PromisedMethods<S> = { [K in keyof S]: Promised<S[K]> };

/** promised wraps each method of `store` to return a Promise. */
export function promised<S extends object>(store: S): PromisedMethods<S> {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(store) as Array<[string, unknown]>) {
    if (typeof method !== 'function') continue;
    out[name] = (...args: unknown[]) => {
      try {
        return Promise.resolve((method as (...a: unknown[]) => unknown).apply(store, args));
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }
  return out as PromisedMethods<S>;
}
