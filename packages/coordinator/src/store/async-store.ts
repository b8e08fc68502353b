/**
 * AsyncStore is {@link Store} with every method returning a Promise: the shape a networked store
 * (PostgreSQL, store/pg-store.ts) can implement, and the one the coordinator's callers move to so
 * that several coordinators can share one database. It is mapped over Store, so a method added to
 * Store is owed by every AsyncStore too.
 *
 * A transaction cannot be a synchronous callback any more: its body awaits, and the calls inside
 * it must run on the transaction's own connection. So `transaction` hands its body a handle `tx`
 * bound to that connection; the body makes every call through `tx`. Calling the store itself from
 * inside the body is refused with {@link OutsideTransactionError}: on PostgreSQL the call would take
 * another connection and escape the transaction, on SQLite it would wait for the transaction to end.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Store } from './store.js';
import type { SqliteStore } from './sqlite-store.js';
import type { LoopPriority } from '../loop-priority.js';
import { connectionGuard } from './connection-guard.js';

/** Promised is a function type with its result made a Promise. */
export type Promised<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never;

/** AsyncStore is the coordinator's persistent state, asynchronously. */
export type AsyncStore = { [K in Exclude<keyof Store, 'transaction'>]: Promised<Store[K]> } & {
  /**
   * transaction runs `fn` with a handle bound to one transaction: every write made through `tx`
   * commits together when `fn` resolves, or none does when it rejects. A store whose engine may
   * refuse a transaction for a concurrent one (PostgreSQL at SERIALIZABLE) runs `fn` again from the
   * start, so `fn` must have no effects outside `tx` that cannot happen twice. Nested calls of
   * `tx.transaction` are savepoints: a rejection there undoes only the inner part.
   */
  transaction<T>(fn: (tx: AsyncStore) => Promise<T>): Promise<T>;
};

/** OutsideTransactionError is thrown when a transaction's body calls the store instead of its `tx`. */
export class OutsideTransactionError extends Error {
  constructor(method: string) {
    super(`store.${method} was called inside a transaction on the store itself; make the call through the transaction's handle (tx.${method})`);
    this.name = 'OutsideTransactionError';
  }
}

/**
 * TransactionYieldedError rejects an asyncSqliteStore transaction whose body let the event loop run
 * (it awaited a timer, a file, a fetch...) while it held the SQLite connection; it is rolled back.
 */
export class TransactionYieldedError extends Error {
  constructor() {
    super('the transaction was rolled back: its body awaited something other than its tx calls, letting the event loop run while it held the SQLite connection; do that I/O before the transaction begins');
    this.name = 'TransactionYieldedError';
  }
}

/** TransactionEndedError is thrown when a transaction's handle is used after its transaction ended. */
export class TransactionEndedError extends Error {
  constructor(method: string) {
    super(`tx.${method} was called after its transaction ended; a transaction's handle is valid only until transaction() settles`);
    this.name = 'TransactionEndedError';
  }
}

/**
 * TransactionScope marks the async context of a running transaction body, so a store can refuse a
 * call that bypasses `tx` (see {@link OutsideTransactionError}). One per store instance.
 */
export class TransactionScope {
  private readonly inside = new AsyncLocalStorage<true>();
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.inside.run(true, fn);
  }
  /** within says whether the caller is inside a transaction body of this store. */
  within(): boolean {
    return this.inside.getStore() === true;
  }
  /** check throws when the caller is inside a transaction body of this store. */
  check(method: string): void {
    if (this.within()) throw new OutsideTransactionError(method);
  }
}

/**
 * Serializer lets one transaction at a time own SQLite's single connection, which the engine also
 * uses synchronously. Each transaction begins at the top of a turn of the event loop of its own
 * (setImmediate), when no other code's promise callbacks are pending: a body that awaits only its
 * tx calls (settled promises) then runs to COMMIT with nothing else running in between, and whoever
 * awaited the transaction before it (an operation that then calls the engine) goes on before the
 * next one begins. A plain call runs at once unless a transaction holds the connection; then it
 * waits for that transaction to end, so it never lands inside it.
 */
class Serializer {
  constructor(private readonly priority?: LoopPriority) {}
  /** Whether a transaction holds the connection now. */
  private holding = false;
  /** Whether a transaction's turn is scheduled or running. */
  private turn = false;
  /** Transactions waiting for their turn, in order. */
  private readonly queue: Array<() => void> = [];
  /** Plain calls waiting for the holding transaction to end. */
  private readonly held: Array<() => void> = [];

  /** exclusive runs `fn` holding the connection, after the transactions queued before it, on a turn of its own. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((resolve) => {
      this.queue.push(resolve);
      this.priority?.queued();
      this.next();
    });
    this.holding = true;
    try {
      return await fn();
    } finally {
      this.holding = false;
      for (const resume of this.held.splice(0)) resume();
      this.turn = false;
      this.next();
    }
  }

  /** next schedules the first queued transaction's turn, unless one is scheduled or running. */
  private next(): void {
    if (this.turn || this.queue.length === 0) return;
    this.turn = true;
    setImmediate(() => {
      this.priority?.begun();
      this.queue.shift()!();
    });
  }

  /** call runs a synchronous store call now when no transaction holds the connection, else once it ends. */
  call<T>(fn: () => T): Promise<T> {
    if (!this.holding) {
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<void>((resolve) => this.held.push(resolve)).then(() => fn());
  }
}

const SYNC_METHODS = (store: Store) => Object.keys(store).filter((k) => k !== 'transaction' && k !== 'db' && typeof (store as unknown as Record<string, unknown>)[k] === 'function') as Array<Exclude<keyof Store, 'transaction'>>;

/** AsyncSqliteOptions: `observe` hears how long each outermost transaction took, in seconds (the metrics' transaction time). */
export interface AsyncSqliteOptions {
  observe?: (seconds: number) => void;
  /** Where transactions waiting for their turn are counted, so the engine's background turns give way to them (loop-priority.ts). */
  priority?: LoopPriority;
}

/**
 * asyncSqliteStore presents the synchronous SQLite store as an {@link AsyncStore}. Its transactions
 * are BEGIN IMMEDIATE … COMMIT on the one connection, held by one transaction at a time (SQLite
 * serializes writers anyway, so nothing is ever retried), each on a turn of the event loop of its
 * own (see Serializer; connection-guard.ts refuses the engine's calls that would still land inside
 * one); the SQLite store's own nested transactions (deleteApplication, putResourceTags) become
 * savepoints inside it, as they do now.
 */
export function asyncSqliteStore(store: SqliteStore, options: AsyncSqliteOptions = {}): AsyncStore {
  const { db } = store;
  const serial = new Serializer(options.priority);
  const scope = new TransactionScope();
  // The engine's synchronous calls share this connection: refused while a transaction holds it (connection-guard.ts).
  const guard = connectionGuard(db);
  // Prepared once: db.exec compiles its SQL at each call, which was a sixth of the engine's CPU with
  // a savepoint per agent report (bench:engine). A savepoint name may be reused: SQLite's RELEASE
  // and ROLLBACK TO act on the innermost savepoint of that name, which nesting makes the right one.
  const sql = {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT fd_sp'),
    release: db.prepare('RELEASE fd_sp'),
    rollbackTo: db.prepare('ROLLBACK TO fd_sp'),
  };

  /** methods wraps each synchronous call; `admit` throws when the call may not run, `run` runs it. */
  const methods = (admit: (name: string) => void, run: <T>(call: () => T) => Promise<T>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const name of SYNC_METHODS(store)) {
      const method = (store[name] as (...a: unknown[]) => unknown).bind(store);
      out[name] = (...args: unknown[]) => {
        try {
          admit(name);
        } catch (err) {
          return Promise.reject(err);
        }
        return run(() => method(...args));
      };
    }
    return out;
  };
  const now = <T>(call: () => T): Promise<T> => {
    try {
      return Promise.resolve(call());
    } catch (err) {
      return Promise.reject(err);
    }
  };

  /** handle is one transaction's `tx`: its calls run at once (the transaction holds the connection), until it ends. */
  const handle = (ended: () => boolean): AsyncStore => {
    const tx = methods((name) => {
      if (ended()) throw new TransactionEndedError(name);
    }, now) as unknown as AsyncStore;
    tx.transaction = async <T>(fn: (inner: AsyncStore) => Promise<T>): Promise<T> => {
      if (ended()) throw new TransactionEndedError('transaction');
      sql.savepoint.run();
      try {
        const result = await fn(tx);
        sql.release.run();
        return result;
      } catch (err) {
        sql.rollbackTo.run();
        sql.release.run();
        throw err;
      }
    };
    tx.close = () => Promise.reject(new Error('close the store, not a transaction handle'));
    return tx;
  };

  const outer = methods((name) => scope.check(name), (call) => serial.call(call)) as unknown as AsyncStore;
  outer.transaction = <T>(fn: (tx: AsyncStore) => Promise<T>): Promise<T> => {
    try {
      scope.check('transaction');
    } catch (err) {
      return Promise.reject(err);
    }
    return serial.exclusive(async () => {
      let ended = false;
      // A body that awaits only its tx calls (settled promises) ends within this turn of the event
      // loop, before an immediate runs; one that awaits real I/O does not, and is refused.
      let yielded = false;
      guard.hold(() => scope.within());
      try {
        sql.begin.run();
      } catch (err) {
        guard.release();
        throw err;
      }
      const turn = setImmediate(() => void (yielded = true));
      const started = process.hrtime.bigint();
      try {
        const result = await scope.run(() => fn(handle(() => ended)));
        if (yielded) throw new TransactionYieldedError();
        sql.commit.run();
        return result;
      } catch (err) {
        if (db.inTransaction) sql.rollback.run();
        throw err;
      } finally {
        ended = true;
        guard.release();
        clearImmediate(turn);
        options.observe?.(Number(process.hrtime.bigint() - started) / 1e9);
      }
    });
  };
  return outer;
}
