/**
 * Wake-ups between coordinator replicas sharing one PostgreSQL database, through LISTEN/NOTIFY.
 *
 * The tables stay the truth: a wake-up carries only a key (an instance name, a deployment id) and
 * tells the replica that receives it to read that key's rows. So a wake-up may be lost or repeated
 * without harm, as long as a replica re-reads everything after a time it may have missed some.
 *
 * Sending: {@link notifyWakeup} runs `pg_notify` on the caller's handle. Inside a transaction
 * PostgreSQL holds the notification until COMMIT and drops it on ROLLBACK, so a replica is never woken
 * for rows it cannot yet see, or for rows that were never written. Within one transaction PostgreSQL
 * also folds identical notifications (same channel and key) into one.
 *
 * Receiving: {@link createWakeupListener} keeps one dedicated connection (a LISTEN belongs to its
 * session, so never a pooled one) listening on the channels. Notifications sent while it is not
 * listening are lost for good, so each time it starts listening, the first time included, it calls
 * `onMissed` once: the consumer re-reads its rows then. A connection that dies without a word is
 * found by a periodic liveness query and replaced like one that was dropped. Wake-ups arriving in the same turn of the event
 * loop are coalesced: each distinct (channel, key) is delivered once per turn, however many times it
 * came (a deployment starting on 1,000 instances of one agent's replica is 1,000 notifications).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { BackoffOptions } from '@fleetdeploy/shared';
import { nextDelay } from '@fleetdeploy/shared';
import type { PgQuery } from './pg-store.js';

/**
 * WAKEUP_CHANNELS are the channels replicas wake each other on: `fd_commands`, keyed by instance name
 * (a command was written for that instance's agent), `fd_results`, keyed by deployment id (an
 * agent's result for that deployment was written, for the replica driving it), and `fd_events`,
 * whose keys are the driving replica's deployment events themselves (deployment/event-relay.ts).
 */
export const WAKEUP_CHANNELS = ['fd_commands', 'fd_results', 'fd_events'] as const;
export type WakeupChannel = (typeof WAKEUP_CHANNELS)[number];

/** MAX_WAKEUP_KEY_BYTES: PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more (UTF-8). */
export const MAX_WAKEUP_KEY_BYTES = 7999;

/** isWakeupChannel tells one of {@link WAKEUP_CHANNELS}. */
export function isWakeupChannel(name: unknown): name is WakeupChannel {
  return (WAKEUP_CHANNELS as readonly unknown[]).includes(name);
}

function checkChannel(channel: unknown, where: string): asserts channel is WakeupChannel {
  if (!isWakeupChannel(channel)) throw new Error(`${where}: unknown wake-up channel ${JSON.stringify(channel)}; the channels are ${WAKEUP_CHANNELS.join(', ')}`);
}

function checkKey(channel: WakeupChannel, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new Error(`notifyWakeup: the key on ${channel} must be a non-empty string, got ${JSON.stringify(key)}`);
  // A text value cannot hold NUL; PostgreSQL would refuse the whole statement less clearly.
  if (key.includes('\0')) throw new Error(`notifyWakeup: the key on ${channel} contains a NUL character`);
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_WAKEUP_KEY_BYTES) throw new Error(`notifyWakeup: the key on ${channel} is ${bytes} bytes; PostgreSQL carries at most ${MAX_WAKEUP_KEY_BYTES} (key starts ${JSON.stringify(key.slice(0, 40))})`);
}

/**
 * notifyWakeup wakes the listeners of `channel` for `key`, when the transaction `db` belongs to
 * commits (at once when `db` is the pool). It checks everything before sending, so a bad key fails
 * the caller's transaction with an error naming it rather than with PostgreSQL's.
 */
export async function notifyWakeup(db: PgQuery, channel: WakeupChannel, key: string): Promise<void> {
  await notifyWakeups(db, channel, [key]);
}

/** notifyWakeups is {@link notifyWakeup} for many keys in one statement (distinct keys, each once). */
export async function notifyWakeups(db: PgQuery, channel: WakeupChannel, keys: readonly string[]): Promise<void> {
  checkChannel(channel, 'notifyWakeup');
  for (const key of keys) checkKey(channel, key);
  const distinct = [...new Set(keys)];
  if (distinct.length === 0) return;
  // count() consumes pg_notify's void results, so the answer is one row however many keys.
  await db.query('SELECT count(pg_notify($1, k)) FROM unnest($2::text[]) AS t(k)', [channel, distinct]);
}

/** WakeupListenerOptions: where to listen, for what, and whom to tell. */
export interface WakeupListenerOptions {
  /** connection is a connection string or the `pg` client's settings (a new client is made for each connection). */
  connection: string | pg.ClientConfig;
  channels: readonly WakeupChannel[];
  /** onWake is called once per distinct (channel, key) per turn of the event loop; what it throws is logged. */
  onWake(channel: WakeupChannel, key: string): void;
  /** onMissed is called each time the listener starts listening, the first time included: re-read the rows then. */
  onMissed(): void;
  log: Logger;
  /** backoff bounds the waits between connection attempts (default 0.2 s rising to 10 s, full jitter). */
  backoff?: BackoffOptions;
  /** random supplies the jitter (Math.random by default). */
  random?: () => number;
  /**
   * probe: while listening, a `SELECT 1` every `everyMs` (default 30 s); no answer within `timeoutMs`
   * (default 10 s) counts as a lost connection. A connection that died without a word (a network cut,
   * a frozen server) would otherwise look like a quiet channel, and its wake-ups would be lost unseen.
   */
  probe?: { everyMs: number; timeoutMs: number };
}

/** WakeupListener is a running listener. */
export interface WakeupListener {
  /** listening tells whether its connection is up and listening now. */
  readonly listening: boolean;
  /** ready resolves when it is listening (at once if it is); it rejects if the listener is closed first. */
  ready(): Promise<void>;
  /** close ends the connection and any wait for the next attempt; nothing is delivered after it. */
  close(): Promise<void>;
}

/** DEFAULT_WAKEUP_BACKOFF: a dropped connection is tried again within 0.2 s, then at most every 10 s. */
export const DEFAULT_WAKEUP_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 10_000 };
/** CONNECT_TIMEOUT_MS bounds one connection attempt, so a server that accepts but never answers is tried again. */
const CONNECT_TIMEOUT_MS = 10_000;
/** DEFAULT_PROBE: a silently dead connection is found within 40 s. */
const DEFAULT_PROBE = { everyMs: 30_000, timeoutMs: 10_000 };

function clientConfig(connection: string | pg.ClientConfig): pg.ClientConfig {
  const given = typeof connection === 'string' ? { connectionString: connection } : connection;
  return { application_name: 'fleetdeploy-wakeups', connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true, ...given };
}

/**
 * createWakeupListener starts listening at once and never throws for the database: while it cannot
 * connect it tries again with backoff, logging one warning per episode of trouble (each further
 * failed attempt at debug level) and one line when it listens again.
 */
export function createWakeupListener(opts: WakeupListenerOptions): WakeupListener {
  if (opts.channels.length === 0) throw new Error('createWakeupListener: no channels to listen on');
  for (const channel of opts.channels) checkChannel(channel, 'createWakeupListener');
  const channels = [...new Set(opts.channels)];
  const config = clientConfig(opts.connection);
  const backoff = opts.backoff ?? DEFAULT_WAKEUP_BACKOFF;
  const random = opts.random ?? Math.random;
  const log = opts.log;
  const probe = opts.probe ?? DEFAULT_PROBE;
  for (const [name, ms] of [['backoff.baseMs', backoff.baseMs], ['backoff.maxMs', backoff.maxMs], ['probe.everyMs', probe.everyMs], ['probe.timeoutMs', probe.timeoutMs]] as const) {
    if (!Number.isFinite(ms) || ms <= 0) throw new Error(`createWakeupListener: ${name} must be a positive number of milliseconds, got ${ms}`);
  }

  let closed = false;
  let client: pg.Client | undefined;
  let listening = false;
  let retry: NodeJS.Timeout | undefined;
  /** watchdog is the wait for the next liveness probe, or for the answer to the one sent. */
  let watchdog: NodeJS.Timeout | undefined;
  /** failures counts the failed attempts of the current episode of trouble (0: none). */
  let failures = 0;
  let waiters: Array<{ resolve(): void; reject(err: Error): void }> = [];
  let pending = new Map<WakeupChannel, Set<string>>();
  let flush: NodeJS.Immediate | undefined;

  const guarded = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      log.error({ err }, `wake-up listener: ${what} threw`);
    }
  };

  const deliver = (): void => {
    flush = undefined;
    const batch = pending;
    pending = new Map();
    for (const [channel, keys] of batch) {
      for (const key of keys) {
        if (closed) return;
        guarded(`onWake(${channel}, ${key})`, () => opts.onWake(channel, key));
      }
    }
  };

  const receive = (msg: pg.Notification): void => {
    if (closed || !isWakeupChannel(msg.channel) || !msg.payload) return;
    let keys = pending.get(msg.channel);
    if (keys === undefined) pending.set(msg.channel, (keys = new Set()));
    keys.add(msg.payload);
    flush ??= setImmediate(deliver);
  };

  /** lost is the end of connection `c`, whichever way it came (failed attempt, error, end); once per connection. */
  const lost = (c: pg.Client, err: unknown): void => {
    if (client !== c) return;
    client = undefined;
    listening = false;
    clearTimeout(watchdog);
    watchdog = undefined;
    c.removeListener('notification', receive);
    // end() on a connection with a query waiting for an answer destroys the socket instead of waiting.
    c.end().catch(() => undefined);
    if (closed) return;
    const reason = err instanceof Error ? err.message : String(err);
    if (failures === 0) log.warn({ reason }, 'wake-up listener is not listening; it tries again until it is (wake-ups sent meanwhile are lost)');
    else log.debug({ reason, attempt: failures + 1 }, 'wake-up listener: connection attempt failed');
    const delay = nextDelay(failures, random(), backoff);
    failures++;
    retry = setTimeout(connect, delay);
    retry.unref();
  };

  /** keepProbing sends `c` a liveness query every probe.everyMs, for as long as it is the connection. */
  const keepProbing = (c: pg.Client): void => {
    watchdog = setTimeout(() => {
      if (client !== c) return;
      watchdog = setTimeout(() => lost(c, new Error(`no answer to a liveness query within ${probe.timeoutMs} ms`)), probe.timeoutMs);
      watchdog.unref();
      c.query('SELECT 1').then(
        () => {
          if (client !== c) return;
          clearTimeout(watchdog);
          keepProbing(c);
        },
        (err: unknown) => lost(c, err),
      );
    }, probe.everyMs);
    watchdog.unref();
  };

  const connect = (): void => {
    retry = undefined;
    if (closed) return;
    const c = new pg.Client(config);
    client = c;
    // An 'error' handler stays attached for the client's life: an unhandled one would end the process.
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c, new Error('the connection ended')));
    c.on('notification', receive);
    const listen = async () => {
      await c.connect();
      // The channel names are the fixed identifiers of WAKEUP_CHANNELS, never caller text.
      await c.query(channels.map((ch) => `LISTEN ${ch}`).join('; '));
    };
    listen().then(
      () => {
        if (client !== c) return; // lost or closed meanwhile
        listening = true;
        if (failures > 0) log.info({ attempts: failures }, 'wake-up listener is listening again');
        failures = 0;
        keepProbing(c);
        const ready = waiters;
        waiters = [];
        for (const w of ready) w.resolve();
        guarded('onMissed', () => opts.onMissed());
      },
      (err: unknown) => lost(c, err),
    );
  };

  connect();

  return {
    get listening() {
      return listening;
    },
    ready: () => {
      if (closed) return Promise.reject(new Error('the wake-up listener is closed'));
      if (listening) return Promise.resolve();
      return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    close: async () => {
      if (closed) return;
      closed = true;
      listening = false;
      clearTimeout(retry);
      retry = undefined;
      clearTimeout(watchdog);
      watchdog = undefined;
      if (flush !== undefined) clearImmediate(flush);
      flush = undefined;
      pending.clear();
      const stranded = waiters;
      waiters = [];
      for (const w of stranded) w.reject(new Error('the wake-up listener is closed'));
      const c = client;
      client = undefined;
      if (c !== undefined) {
        c.removeListener('notification', receive);
        await c.end().catch(() => undefined);
      }
    },
  };
}
