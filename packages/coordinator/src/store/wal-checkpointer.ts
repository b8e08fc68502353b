/**
 * Checkpoints the coordinator database's write-ahead log from a thread of its own.
 *
 * Left to itself, SQLite checkpoints inside whichever COMMIT takes the WAL past
 * `wal_autocheckpoint` pages: that commit copies the log into the database file and fsyncs both,
 * on the event loop, in the middle of an API request or an engine step. Registering 10,000
 * instances (20,000 transactions) spent a fifth of the coordinator's profile in BEGIN/COMMIT, and
 * fewer, larger checkpoints alone took a third of that off. Here a worker thread with its own
 * connection runs a PASSIVE checkpoint every `intervalMs` (it never waits for the main connection's
 * readers or writers, and they never wait for it), so the log is reset by the next writer and the
 * main connection's own automatic checkpoint, raised to `fallbackPages`, is only a safety net for a
 * thread that falls behind. While the thread's checkpoints fail (a full disk), or if it ends, the
 * default automatic checkpoint is put back, and that is logged once per episode.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as WorkerThreads from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Logger } from '../log.js';

/** SQLite's default wal_autocheckpoint, restored when the thread fails. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

export interface WalCheckpointerOptions {
  /** The main connection: its automatic checkpoint is raised while the thread runs. */
  db: Database.Database;
  /** The database file the thread opens. */
  file: string;
  log: Logger;
  /** How often the thread checkpoints (default 250 ms). */
  intervalMs?: number;
  /** The main connection's wal_autocheckpoint while the thread runs (default 10,000 pages, ~40 MB). */
  fallbackPages?: number;
}

export interface WalCheckpointer {
  /** checkpoints is how many checkpoints the thread has completed. */
  checkpoints(): number;
  /** stop ends the thread after its current checkpoint; the main connection's automatic checkpoint is put back. */
  stop(): Promise<void>;
}

/** ThreadData is the thread's workerData. */
interface ThreadData {
  file: string;
  intervalMs: number;
  sqlite: string;
}

/** ThreadMessage is what the thread tells the main thread. */
type ThreadMessage = { type: 'checkpointed' } | { type: 'checkpointFailed'; message: string } | { type: 'ended'; message: string };

/** startWalCheckpointer starts the thread; see the module comment. */
export function startWalCheckpointer(options: WalCheckpointerOptions): WalCheckpointer {
  const { db, log } = options;
  const data: ThreadData = { file: options.file, intervalMs: options.intervalMs ?? 250, sqlite: createRequire(import.meta.url).resolve('better-sqlite3') };
  // Source text, as the agent's zip inflater does: the same code runs from the TypeScript sources in tests and from dist.
  const source = `(${checkpointThread.toString()})(require('node:worker_threads'), require(require('node:worker_threads').workerData.sqlite))`;
  // None of this process's Node options: a preload (--import) would run in the thread too.
  const worker = new Worker(source, { eval: true, execArgv: [], workerData: data });
  worker.unref();
  const raised = options.fallbackPages ?? 10_000;
  const autocheckpoint = (pages: number): void => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${pages}`);
  };
  autocheckpoint(raised);
  let done = 0;
  let stopping = false;
  /** Why the thread's checkpoints fail now (an episode logged once), or undefined while they work. */
  let failing: string | undefined;
  let ended = false;
  const failed = (why: string): void => {
    if (stopping || failing !== undefined) return;
    failing = why;
    autocheckpoint(SQLITE_DEFAULT_AUTOCHECKPOINT);
    log.warn({ reason: why }, 'WAL checkpoints fail in their thread; the commits make them again meanwhile');
  };
  const end = (why: string): void => {
    if (stopping || ended) return;
    ended = true;
    autocheckpoint(SQLITE_DEFAULT_AUTOCHECKPOINT);
    log.warn({ reason: why }, 'the WAL checkpoint thread ended; checkpoints are made in the commits again');
  };
  worker.on('message', (m: ThreadMessage) => {
    if (m.type === 'checkpointed') {
      done++;
      if (failing === undefined || stopping) return;
      log.info({ reason: failing }, 'WAL checkpoints work in their thread again');
      failing = undefined;
      autocheckpoint(raised);
    } else if (m.type === 'checkpointFailed') failed(m.message);
    else end(m.message);
  });
  worker.on('error', (err) => end(err.message));
  const exited = new Promise<void>((resolve) =>
    worker.on('exit', (code) => {
      end(`the thread exited (code ${code})`);
      resolve();
    }),
  );
  return {
    checkpoints: () => done,
    async stop() {
      if (stopping) return;
      stopping = true;
      // Held by the thread's exit now: unreferenced, a process with nothing else left would end here, mid-stop.
      worker.ref();
      worker.postMessage('stop');
      await exited;
      autocheckpoint(SQLITE_DEFAULT_AUTOCHECKPOINT);
    },
  };
}

/** checkpointThread is the thread's whole program (its text is evaluated there: it may use only its arguments). */
function checkpointThread(threads: typeof WorkerThreads, Sqlite: typeof Database): void {
  const { file, intervalMs } = threads.workerData as ThreadData;
  const port = threads.parentPort!;
  let db: Database.Database;
  try {
    db = new Sqlite(file, { fileMustExist: true });
  } catch (err) {
    port.postMessage({ type: 'ended', message: `could not open ${file}: ${(err as Error).message}` } satisfies ThreadMessage);
    return;
  }
  const timer = setInterval(() => {
    // A checkpoint that fails (a full disk) is tried again at the next tick.
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
      port.postMessage({ type: 'checkpointed' } satisfies ThreadMessage);
    } catch (err) {
      port.postMessage({ type: 'checkpointFailed', message: (err as Error).message } satisfies ThreadMessage);
    }
  }, intervalMs);
  port.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    clearInterval(timer);
    db.close();
    port.close();
  });
}
