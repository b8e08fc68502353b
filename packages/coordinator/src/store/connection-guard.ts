/**
 * One SQLite connection, two kinds of caller: the API's asynchronous transactions (asyncSqliteStore)
 * hold it from BEGIN to COMMIT across their body's awaits, while the engine keeps calling the
 * synchronous store on it. A synchronous call made in that window by anyone but the transaction's
 * body would run inside the open transaction: better-sqlite3 turns its `db.transaction` into a
 * savepoint, so its writes are undone if the asynchronous transaction rolls back, after its caller
 * already acted on them, and its reads see rows that may never commit. The guard makes such a call
 * throw {@link ConnectionHeldError} instead of going wrong silently.
 */

/** ConnectionHeldError is thrown by a synchronous store call that would land inside another caller's asynchronous transaction. */
export class ConnectionHeldError extends Error {
  constructor(what: string) {
    super(
      `${what} ran while an asynchronous transaction holds the SQLite connection, outside that transaction's body: ` +
        'it would have joined that transaction (and been undone with it). An asynchronous transaction body must await nothing but its tx calls; ' +
        'do any other I/O before the transaction begins',
    );
    this.name = 'ConnectionHeldError';
  }
}

/** ConnectionGuard is one connection's record of the asynchronous transaction holding it, if any. */
export interface ConnectionGuard {
  /** hold marks the connection held by a transaction; `inside` says whether the running code is that transaction's body. */
  hold(inside: () => boolean): void;
  release(): void;
  /** check throws {@link ConnectionHeldError} naming `what` when the connection is held and the caller is not the holder's body. */
  check(what: string): void;
}

const guards = new WeakMap<object, ConnectionGuard>();

/** connectionGuard is the guard of `db` (one per connection, made on first use). */
export function connectionGuard(db: object): ConnectionGuard {
  let guard = guards.get(db);
  if (guard === undefined) {
    let holder: (() => boolean) | undefined;
    guard = {
      hold(inside) {
        if (holder !== undefined) throw new Error('the SQLite connection is already held by an asynchronous transaction; one asyncSqliteStore per store serializes them');
        holder = inside;
      },
      release: () => void (holder = undefined),
      check(what) {
        if (holder !== undefined && !holder()) throw new ConnectionHeldError(what);
      },
    };
    guards.set(db, guard);
  }
  return guard;
}
