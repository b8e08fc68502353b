import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { describeWithTools } from '../../../../../test/harness/system-tools.js';
import { PG_BIN, usePostgres } from '../../../../../test/harness/postgres.js';
import { eventually } from '../../../../../test/harness/eventually.js';
import { openPgStore } from './pg-store.js';
import type { WakeupChannel, WakeupListener, WakeupListenerOptions } from './pg-wakeups.js';
import { MAX_WAKEUP_KEY_BYTES, createWakeupListener, notifyWakeup, notifyWakeups } from './pg-wakeups.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Watched is a listener with what it told: the wake-ups in order, the onMissed calls, the log lines. */
interface Watched {
  listener: WakeupListener;
  wakes: string[];
  missed: number;
  lines: Array<{ level: number; msg: string; [k: string]: unknown }>;
  /** app is the listener's application_name, to find its backend in pg_stat_activity. */
  app: string;
}

const WARN = 40;
const INFO = 30;
const DEBUG = 20;

describeWithTools(['postgres'], 'PostgreSQL wake-ups', () => {
  const server = usePostgres();
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  let counter = 0;
  const watch = (url: string, over: Partial<WakeupListenerOptions> = {}): Watched => {
    const app = `wakeups-test-${++counter}`;
    const w: Partial<Watched> & { wakes: string[]; missed: number; lines: Watched['lines'] } = { wakes: [], missed: 0, lines: [], app };
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (w.lines.push(JSON.parse(String(chunk)) as Watched['lines'][number]), done()) });
    w.listener = createWakeupListener({
      connection: { connectionString: url, application_name: app },
      channels: ['fd_commands', 'fd_results'],
      onWake: (channel, key) => w.wakes.push(`${channel}:${key}`),
      onMissed: () => w.missed++,
      log: pino({ level: 'debug' }, sink),
      backoff: { baseMs: 20, maxMs: 100 },
      ...over,
    });
    cleanups.push(() => w.listener!.close());
    return w as Watched;
  };
  const pool = (url: string): pg.Pool => {
    const p = new pg.Pool({ connectionString: url, max: 2 });
    // A server shut down under a test ends the pool's idle connections; the pool reports it as an 'error'.
    p.on('error', () => {});
    cleanups.push(() => p.end());
    return p;
  };
  /** backends counts the connections of the listener named `app`. */
  const backends = async (db: pg.Pool, app: string): Promise<number> =>
    (await db.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app])).rows[0].n as number;
  const withLevel = (w: Watched, level: number) => w.lines.filter((l) => l.level === level);

  it('wakes a listener when the transaction commits, not before, and never for one rolled back', async () => {
    const url = await server().freshDatabase();
    const store = await openPgStore(url, { poolSize: 3 });
    cleanups.push(() => store.close());
    const w = watch(url);
    await w.listener.ready();
    expect(w.missed).toBe(1); // the first listen: whatever came before it was not heard

    let commit!: () => void;
    const gate = new Promise<void>((resolve) => (commit = resolve));
    let sent!: () => void;
    const notified = new Promise<void>((resolve) => (sent = resolve));
    const tx = store.transaction(async (t) => {
      await notifyWakeup(t, 'fd_commands', 'i-1');
      sent();
      await gate;
    });
    await notified;
    // Notifications arrive in commit order: once a later-committed marker is heard, i-1 would have been too.
    await notifyWakeup(store, 'fd_results', 'marker-1');
    await eventually(() => expect(w.wakes).toContain('fd_results:marker-1'));
    expect(w.wakes).toEqual(['fd_results:marker-1']);
    commit();
    await tx;
    await eventually(() => expect(w.wakes).toEqual(['fd_results:marker-1', 'fd_commands:i-1']));

    await expect(
      store.transaction(async (t) => {
        await notifyWakeups(t, 'fd_commands', ['i-2', 'i-3']);
        throw new Error('changed its mind');
      }),
    ).rejects.toThrow('changed its mind');
    await notifyWakeup(store, 'fd_results', 'marker-2');
    await eventually(() => expect(w.wakes).toContain('fd_results:marker-2'));
    expect(w.wakes).toEqual(['fd_results:marker-1', 'fd_commands:i-1', 'fd_results:marker-2']);
    expect(w.missed).toBe(1);
  });

  it('wakes every replica listening on the channel, each key once, and no one for a channel it does not listen on', async () => {
    const url = await server().freshDatabase();
    const db = pool(url);
    const a = watch(url);
    const b = watch(url, { channels: ['fd_results'] });
    await Promise.all([a.listener.ready(), b.listener.ready()]);
    await notifyWakeups(db, 'fd_commands', ['i-1', 'i-2', 'i-1']);
    await notifyWakeup(db, 'fd_results', 'd-1');
    await eventually(() => expect(a.wakes).toEqual(['fd_commands:i-1', 'fd_commands:i-2', 'fd_results:d-1']));
    await eventually(() => expect(b.wakes).toEqual(['fd_results:d-1']));
  });

  it('coalesces a burst: a key notified by many transactions in one turn of the event loop wakes once', async () => {
    const server_ = server();
    const url = await server_.freshDatabase();
    const w = watch(url);
    await w.listener.ready();
    // 200 transactions each waking i-hot, and i-0..i-4 each once, sent by psql while this process's
    // event loop is blocked: they all wait in the socket and arrive in one turn. The pause at the end
    // lets the listener's backend send the last ones before the loop runs again.
    const statements = Array.from({ length: 200 }, (_, n) => `BEGIN; SELECT pg_notify('fd_commands', 'i-hot')${n < 5 ? `, pg_notify('fd_commands', 'i-${n}')` : ''}; COMMIT;`);
    const psqlUrl = `postgres://fleetdeploy@localhost/${path.basename(new URL(url).pathname)}?host=${encodeURIComponent(server_.socketDir)}`;
    execFileSync(path.join(PG_BIN, 'psql'), [psqlUrl, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', `${statements.join(' ')} SELECT pg_sleep(1);`], { stdio: 'ignore' });
    await eventually(() => expect(w.wakes).toHaveLength(6));
    await sleep(100);
    expect(w.wakes.filter((k) => k === 'fd_commands:i-hot')).toHaveLength(1);
    expect([...w.wakes].sort()).toEqual(['fd_commands:i-0', 'fd_commands:i-1', 'fd_commands:i-2', 'fd_commands:i-3', 'fd_commands:i-4', 'fd_commands:i-hot']);
    // Coalescing is per turn only: a later wake-up for the same key is delivered again.
    await notifyWakeup(pool(url), 'fd_commands', 'i-hot');
    await eventually(() => expect(w.wakes.filter((k) => k === 'fd_commands:i-hot')).toHaveLength(2));
  });

  it('connects again after its connection is killed, calls onMissed once, and hears what is sent after', async () => {
    const url = await server().freshDatabase();
    const db = pool(url);
    const w = watch(url);
    await w.listener.ready();
    const pidOf = async () => (await db.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [w.app])).rows.map((r: { pid: number }) => r.pid);
    const [before] = await pidOf();
    expect(before).toBeDefined();
    expect((await db.query('SELECT pg_terminate_backend($1) AS done', [before])).rows[0].done).toBe(true);
    await eventually(() => expect(w.missed).toBe(2));
    expect(w.listener.listening).toBe(true);
    const after = await pidOf();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    await notifyWakeup(db, 'fd_commands', 'i-after');
    await eventually(() => expect(w.wakes).toEqual(['fd_commands:i-after']));
    expect(w.missed).toBe(2);
    expect(withLevel(w, WARN)).toHaveLength(1);
    expect(withLevel(w, INFO).map((l) => l.msg)).toEqual(['wake-up listener is listening again']);
  });

  it('finds a connection that stopped answering by its liveness probe, and connects again', async () => {
    const url = await server().freshDatabase();
    const db = pool(url);
    const w = watch(url, { probe: { everyMs: 100, timeoutMs: 1000 } });
    await w.listener.ready();
    const [frozen] = (await db.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [w.app])).rows.map((r: { pid: number }) => r.pid);
    await sleep(350); // a few probes answered first: probing goes on after an answer
    // A stopped backend keeps its socket open and answers nothing, as a server behind a cut network would.
    process.kill(frozen!, 'SIGSTOP');
    try {
      await eventually(() => expect(w.missed).toBe(2));
      expect(withLevel(w, WARN)).toEqual([expect.objectContaining({ reason: 'no answer to a liveness query within 1000 ms' })]);
      await notifyWakeup(db, 'fd_results', 'd-1');
      await eventually(() => expect(w.wakes).toEqual(['fd_results:d-1']));
    } finally {
      process.kill(frozen!, 'SIGCONT');
    }
    // Probes that are answered change nothing.
    await sleep(400);
    expect(w.missed).toBe(2);
  });

  it('keeps trying while the server is down at start, warns once for the episode, and listens when it comes up', async () => {
    const url = await server().freshDatabase();
    await server().shutDown();
    try {
      const w = watch(url);
      let ready = false;
      void w.listener.ready().then(() => (ready = true));
      await eventually(() => expect(withLevel(w, DEBUG).length).toBeGreaterThanOrEqual(3));
      expect(withLevel(w, WARN)).toHaveLength(1);
      expect(w.listener.listening).toBe(false);
      expect(ready).toBe(false);
      expect(w.missed).toBe(0);
      await server().startAgain();
      await w.listener.ready();
      expect(w.missed).toBe(1);
      expect(withLevel(w, WARN)).toHaveLength(1);
      expect(withLevel(w, INFO)).toEqual([expect.objectContaining({ msg: 'wake-up listener is listening again', attempts: withLevel(w, DEBUG).length + 1 })]);
      await notifyWakeup(pool(url), 'fd_results', 'd-1');
      await eventually(() => expect(w.wakes).toEqual(['fd_results:d-1']));
    } finally {
      await server().startAgain();
    }
  });

  it('survives a server restart: listens again, calls onMissed once, and a second episode warns again', async () => {
    const url = await server().freshDatabase();
    const w = watch(url);
    await w.listener.ready();
    for (const episode of [1, 2]) {
      await server().shutDown();
      await eventually(() => expect(w.listener.listening).toBe(false));
      await server().startAgain();
      await eventually(() => expect(w.missed).toBe(episode + 1));
      expect(withLevel(w, WARN)).toHaveLength(episode);
    }
    const db = pool(url);
    await notifyWakeup(db, 'fd_commands', 'i-1');
    await eventually(() => expect(w.wakes).toEqual(['fd_commands:i-1']));
  });

  it('close ends the connection: nothing is delivered after, ready rejects, and it does not connect again', async () => {
    const url = await server().freshDatabase();
    const db = pool(url);
    const w = watch(url);
    const witness = watch(url);
    await Promise.all([w.listener.ready(), witness.listener.ready()]);
    expect(await backends(db, w.app)).toBe(1);
    await w.listener.close();
    await w.listener.close(); // twice is harmless
    expect(w.listener.listening).toBe(false);
    await expect(w.listener.ready()).rejects.toThrow('the wake-up listener is closed');
    await eventually(async () => expect(await backends(db, w.app)).toBe(0));
    await notifyWakeup(db, 'fd_commands', 'i-1');
    await eventually(() => expect(witness.wakes).toEqual(['fd_commands:i-1']));
    await sleep(300); // several of its backoff periods: any reconnection would show now
    expect(await backends(db, w.app)).toBe(0);
    expect(w.wakes).toEqual([]);
    expect(w.missed).toBe(1);
    expect(withLevel(w, WARN)).toEqual([]);
  });

  it('close from inside onWake stops the wake-ups left in the same turn', async () => {
    const url = await server().freshDatabase();
    const db = pool(url);
    const witness = watch(url);
    const w = watch(url, {
      onWake: (channel, key) => {
        w.wakes.push(`${channel}:${key}`);
        if (key === 'stop') void w.listener.close();
      },
    });
    await Promise.all([w.listener.ready(), witness.listener.ready()]);
    // One transaction: its notifications come in one message train, read in one turn.
    await notifyWakeups(db, 'fd_commands', ['stop', 'after-stop']);
    await eventually(() => expect(witness.wakes).toEqual(['fd_commands:stop', 'fd_commands:after-stop']));
    // Each listener has its own backend, each hears in its own time.
    await eventually(() => expect(w.wakes).toContain('fd_commands:stop'));
    await sleep(100);
    expect(w.wakes).toEqual(['fd_commands:stop']);
  });

  it('close while a connection attempt is under way, or while waiting to try again, leaves nothing behind', async () => {
    const url = await server().freshDatabase();
    const db = pool(url);
    await db.query('SELECT 1');
    // Closed at once: the first attempt is in flight.
    const early = watch(url);
    const rejected = expect(early.listener.ready()).rejects.toThrow('the wake-up listener is closed');
    await early.listener.close();
    await rejected;

    // Closed between attempts, while the server is down.
    await server().shutDown();
    const waiting = watch(url);
    try {
      await eventually(() => expect(withLevel(waiting, DEBUG).length).toBeGreaterThanOrEqual(2));
      await waiting.listener.close();
    } finally {
      await server().startAgain();
    }
    const attempts = waiting.lines.length;
    await sleep(300);
    expect(waiting.lines).toHaveLength(attempts);
    expect(await backends(db, early.app)).toBe(0);
    expect(await backends(db, waiting.app)).toBe(0);
    expect([early.missed, waiting.missed]).toEqual([0, 0]);
  });

  it('refuses an unknown channel and a key PostgreSQL could not carry, naming them', async () => {
    const url = await server().freshDatabase();
    const db = pool(url);
    const w = watch(url);
    await w.listener.ready();
    await expect(notifyWakeup(db, 'fd_everything' as WakeupChannel, 'i-1')).rejects.toThrow('notifyWakeup: unknown wake-up channel "fd_everything"; the channels are fd_commands, fd_results');
    await expect(notifyWakeup(db, 'fd_commands', 'x'.repeat(8000))).rejects.toThrow(/the key on fd_commands is 8000 bytes; PostgreSQL carries at most 7999/);
    await expect(notifyWakeup(db, 'fd_commands', 'é'.repeat(4000))).rejects.toThrow(/is 8000 bytes/);
    await expect(notifyWakeup(db, 'fd_commands', '')).rejects.toThrow('the key on fd_commands must be a non-empty string');
    await expect(notifyWakeup(db, 'fd_commands', 'a\0b')).rejects.toThrow('the key on fd_commands contains a NUL character');
    await expect(notifyWakeups(db, 'fd_results', ['d-1', 'y'.repeat(9000)])).rejects.toThrow(/the key on fd_results is 9000 bytes/);
    expect(() => createWakeupListener({ connection: url, channels: ['fd_commands', 'fd_nothing' as WakeupChannel], onWake: () => {}, onMissed: () => {}, log: pino({ level: 'silent' }) })).toThrow(
      'createWakeupListener: unknown wake-up channel "fd_nothing"',
    );
    expect(() => createWakeupListener({ connection: url, channels: [], onWake: () => {}, onMissed: () => {}, log: pino({ level: 'silent' }) })).toThrow('createWakeupListener: no channels to listen on');
    const withTimes = (over: Partial<WakeupListenerOptions>) => () =>
      createWakeupListener({ connection: url, channels: ['fd_commands'], onWake: () => {}, onMissed: () => {}, log: pino({ level: 'silent' }), ...over });
    expect(withTimes({ probe: { everyMs: 0, timeoutMs: 10 } })).toThrow('createWakeupListener: probe.everyMs must be a positive number of milliseconds, got 0');
    expect(withTimes({ probe: { everyMs: 10, timeoutMs: Number.NaN } })).toThrow('createWakeupListener: probe.timeoutMs must be a positive number of milliseconds, got NaN');
    expect(withTimes({ backoff: { baseMs: -1, maxMs: 10 } })).toThrow('createWakeupListener: backoff.baseMs must be a positive number of milliseconds, got -1');
    // The limit is PostgreSQL's own: one byte more is refused by the server, the longest key allowed arrives whole.
    await expect(db.query("SELECT pg_notify('fd_commands', repeat('x', $1::int))", [MAX_WAKEUP_KEY_BYTES + 1])).rejects.toThrow('payload string too long');
    await notifyWakeup(db, 'fd_commands', 'z'.repeat(MAX_WAKEUP_KEY_BYTES));
    await eventually(() => expect(w.wakes).toEqual([`fd_commands:${'z'.repeat(MAX_WAKEUP_KEY_BYTES)}`]));
  });

  it('logs what onWake or onMissed throws and carries on delivering', async () => {
    const url = await server().freshDatabase();
    const db = pool(url);
    const heard: string[] = [];
    const w = watch(url, {
      onWake: (_channel, key) => {
        if (key === 'bad') throw new Error('handler broke');
        heard.push(key);
      },
      onMissed: () => {
        throw new Error('re-read failed');
      },
    });
    await w.listener.ready();
    await notifyWakeups(db, 'fd_commands', ['bad', 'good']);
    await notifyWakeup(db, 'fd_commands', 'later');
    await eventually(() => expect(heard).toEqual(['good', 'later']));
    const errors = w.lines.filter((l) => l.level === 50);
    expect(errors.map((l) => l.msg)).toEqual(['wake-up listener: onMissed threw', 'wake-up listener: onWake(fd_commands, bad) threw']);
    expect(w.listener.listening).toBe(true);
  });

  it('measures wake-ups per second from one writer to one listener: one statement per key vs one per transaction', async () => {
    const url = await server().freshDatabase();
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    cleanups.push(() => writer.end());
    const TOTAL = 10_000;
    const PER_TX = 100;
    let expected = new Set<string>();
    let done: () => void = () => {};
    const w = watch(url, {
      onWake: (_channel, key) => {
        if (expected.delete(key) && expected.size === 0) done();
      },
    });
    await w.listener.ready();
    const ways = {
      perKey: async (keys: string[]) => {
        for (const k of keys) await notifyWakeup(writer, 'fd_commands', k);
      },
      perTx: (keys: string[]) => notifyWakeups(writer, 'fd_commands', keys),
    };
    const rates: Record<keyof typeof ways, number[]> = { perKey: [], perTx: [] };
    for (let round = 0; round < 3; round++) {
      for (const way of Object.keys(ways) as Array<keyof typeof ways>) {
        const keys = Array.from({ length: TOTAL }, (_, i) => `i-${round}-${way}-${i}`);
        expected = new Set(keys);
        const all = new Promise<void>((resolve) => (done = resolve));
        const start = performance.now();
        for (let i = 0; i < TOTAL; i += PER_TX) {
          await writer.query('BEGIN');
          await ways[way](keys.slice(i, i + PER_TX));
          await writer.query('COMMIT');
        }
        await all;
        rates[way].push(TOTAL / ((performance.now() - start) / 1000));
      }
    }
    const perKey = Math.round(median(rates.perKey));
    const perTx = Math.round(median(rates.perTx));
    console.log(`wake-ups delivered, ${TOTAL} distinct keys in transactions of ${PER_TX}, median of 3 interleaved rounds: ${perKey}/s with a statement per key, ${perTx}/s with one statement per transaction`);
    expect(expected.size).toBe(0);
  }, 120_000);
});
