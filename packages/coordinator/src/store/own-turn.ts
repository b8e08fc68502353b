/**
 * ownTurn runs a function at the start of a turn of the event loop of its own (setImmediate).
 *
 * Until the engine leaves the synchronous SQLite store, one connection carries both the engine's
 * synchronous calls and asyncSqliteStore's transactions. A transaction's body never yields to the
 * event loop, so none is open when a turn starts; but inside one turn, promise chains interleave at
 * every await, and a synchronous call made by one chain lands inside another chain's open
 * transaction (joining it, and undone if it rolls back). A turn begins with no microtask queued, so
 * a transaction begun by `fn` there runs with no other chain beside it, and a synchronous call made
 * by `fn` there meets no open transaction.
 */
export function ownTurn<T>(fn: () => T | Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    setImmediate(() => {
      try {
        resolve(fn());
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
