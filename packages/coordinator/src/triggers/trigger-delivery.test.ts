/**
 * The delivery loop against a real SQLite outbox and a real HTTP receiver on loopback, on the real
 * clock with millisecond backoffs.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { systemClock } from '../clock.js';
import { createTriggerOutbox } from './trigger-outbox.js';
import type { TriggerOutbox } from './trigger-outbox.js';
import { createTriggerDelivery } from './trigger-delivery.js';
import { promised } from '../store/promised.js';
import type { TriggerDelivery } from './trigger-delivery.js';
import { webhookSender } from './trigger-senders.js';
import type { Sender } from './trigger-senders.js';
import { verifySignature } from './webhook-signature.js';
import type { Notification } from './trigger-messages.js';

interface Received {
  eventId: string;
  signature: string | undefined;
  trigger: string | undefined;
  body: string;
}

/** receiver answers `statuses` in turn (then 200), after `delayMs`, and records every request. */
async function receiver(statuses: number[] = [], hang = false, delayMs = 0) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
      got.push({ eventId: String(req.headers['x-fleetdeploy-event-id']), signature: req.headers['x-fleetdeploy-signature'] as string | undefined, trigger: req.headers['x-fleetdeploy-trigger'] as string | undefined, body });
      if (hang) return;
      res.statusCode = statuses.shift() ?? 200;
      setTimeout(() => res.end(), delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const note = (id: string, target: string, triggerName = 'hook'): Notification => ({ eventId: id, triggerName, triggerEvent: 'DeploymentSuccess', target, subject: 's', body: JSON.stringify({ deploymentId: 'd-1', eventTriggerName: triggerName, n: id }) });

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('trigger delivery', () => {
  let dir: string;
  let store: SqliteStore;
  let outbox: TriggerOutbox;
  let loop: TriggerDelivery | undefined;
  const logged: { level: number; msg: string; eventId?: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line) as (typeof logged)[number]) });
  const noSns: Sender = () => Promise.reject(new Error('no SNS in this test'));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-triggers-'));
    store = openSqliteStore(dir);
    outbox = createTriggerOutbox(store.db);
    logged.length = 0;
  });
  afterEach(async () => {
    await loop?.stop();
    loop = undefined;
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  type StartOptions = { maxAttempts?: number; secrets?: Record<string, string>; timeoutMs?: number; sns?: Sender; replicaId?: string; exclusive?: boolean; claimTtlMs?: number; outbox?: TriggerOutbox };
  const replicas: TriggerDelivery[] = [];
  afterEach(async () => {
    for (const r of replicas.splice(0)) await r.stop();
  });

  function create(opts: StartOptions = {}): TriggerDelivery {
    return createTriggerDelivery({
      outbox: promised(opts.outbox ?? outbox),
      sns: opts.sns ?? noSns,
      webhook: webhookSender((name) => opts.secrets?.[name], opts.timeoutMs, (name) => log.warn({ trigger: name }, 'unsigned')),
      clock: systemClock,
      retry: { baseMs: 20, maxMs: 80, maxAttempts: opts.maxAttempts ?? 10 },
      log,
      replicaId: opts.replicaId ?? 'replica-1',
      exclusive: opts.exclusive ?? true,
      ...(opts.claimTtlMs === undefined ? {} : { claimTtlMs: opts.claimTtlMs }),
    });
  }

  async function start(opts: StartOptions = {}): Promise<void> {
    loop = create(opts);
    await loop.start();
  }

  it('retries a receiver failing the first 3 attempts with backoff, then delivers once, signed', async () => {
    const r = await receiver([500, 503, 502]);
    outbox.enqueue('d-1', [note('e1', r.url)], Date.now());
    await start({ secrets: { hook: 'k1' } });
    await until(() => outbox.get('e1')?.state === 'delivered');
    expect(r.got.map((g) => g.eventId)).toEqual(['e1', 'e1', 'e1', 'e1']);
    for (const g of r.got) expect(verifySignature(g.body, 'k1', g.signature)).toBe(true);
    expect(r.got[0]!.trigger).toBe('hook');
    expect(outbox.get('e1')).toMatchObject({ state: 'delivered', attempts: 4 });
    expect(outbox.get('e1')).not.toHaveProperty('lastError');
    await r.close();
  });

  it('gives up after the configured attempts: the delivery is dead, logged at warn with its last error', async () => {
    const r = await receiver([500, 500, 500, 500]);
    outbox.enqueue('d-1', [note('e2', r.url)], Date.now());
    await start({ maxAttempts: 3 });
    await until(() => outbox.get('e2')?.state === 'dead');
    expect(r.got).toHaveLength(3);
    expect(outbox.get('e2')).toMatchObject({ state: 'dead', attempts: 3, lastError: `POST ${r.url} answered 500` });
    expect(outbox.countByState()).toEqual({ dead: 1 });
    const warnings = logged.filter((l) => l.level === 40);
    // unsigned without a secret, said once for the trigger
    expect(r.got[0]!.signature).toBeUndefined();
    expect(warnings.map((w) => w.msg)).toEqual(['unsigned', 'trigger notification dead: gave up after the configured attempts']);
    expect(warnings[1]).toMatchObject({ eventId: 'e2' });
    await r.close();
  });

  it('a receiver that is down or never answers is retried, and does not hold up other targets', async () => {
    const hanging = await receiver([], true);
    const good = await receiver();
    const down = await receiver();
    await down.close();
    outbox.enqueue('d-1', [note('slow', hanging.url), note('down', down.url), note('ok', good.url)], Date.now());
    await start({ timeoutMs: 300, maxAttempts: 2 });
    await until(() => outbox.get('ok')?.state === 'delivered', 2_000);
    expect(outbox.get('slow')?.state).toBe('pending'); // still on its first attempt
    await until(() => outbox.get('slow')?.state === 'dead' && outbox.get('down')?.state === 'dead');
    expect(outbox.get('slow')?.lastError).toBe(`POST ${hanging.url} failed: no answer within 0.3 s`);
    expect(outbox.get('down')?.lastError).toBe(`POST ${down.url} failed: ECONNREFUSED`);
    await hanging.close();
    await good.close();
  });

  it('an attempt held by its target neither spins the loop nor holds stop(), which does not count it: the delivery stays pending', async () => {
    const hanging = await receiver([], true);
    outbox.enqueue('d-1', [note('held', hanging.url)], Date.now());
    let reads = 0;
    const claim = outbox.claim.bind(outbox);
    outbox.claim = (...args) => (reads++, claim(...args));
    await start({ timeoutMs: 60_000 });
    await until(() => hanging.got.length === 1);
    // while the attempt is held, the loop does not spin on the row it is sending
    const readsBefore = reads;
    await new Promise((r) => setTimeout(r, 500));
    expect(reads - readsBefore).toBeLessThanOrEqual(2);
    const began = Date.now();
    await loop!.stop();
    expect(Date.now() - began).toBeLessThan(5_000); // not the 60 s timeout
    expect(outbox.get('held')).toMatchObject({ state: 'pending', attempts: 0 });
    // its claim is given up, so the next process (or another replica) sends it at once
    expect(outbox.get('held')).not.toHaveProperty('claimedBy');
    await hanging.close();
  });

  it('runs one pass at a time while the outbox answers slowly, and a wake during a pass is not lost', async () => {
    const r = await receiver();
    outbox.enqueue('d-1', [note('first', r.url)], Date.now());
    // The outbox read asynchronously and slowly, as a database over the network answers.
    let reading = 0;
    let most = 0;
    const slow = promised(outbox);
    loop = createTriggerDelivery({
      outbox: {
        ...slow,
        claim: async (...args) => {
          most = Math.max(most, ++reading);
          await new Promise((resolve) => setTimeout(resolve, 30));
          reading--;
          return slow.claim(...args);
        },
      },
      sns: noSns,
      webhook: webhookSender(() => undefined, undefined, () => undefined),
      clock: systemClock,
      retry: { baseMs: 20, maxMs: 80, maxAttempts: 3 },
      log,
      replicaId: 'replica-1',
    });
    await loop.start();
    await new Promise((resolve) => setTimeout(resolve, 10)); // the first pass is reading now
    outbox.enqueue('d-1', [note('second', r.url)], Date.now());
    for (let i = 0; i < 5; i++) loop.wake();
    await until(() => outbox.get('first')?.state === 'delivered' && outbox.get('second')?.state === 'delivered', 900); // before the 1 s idle poll
    expect(most).toBe(1);
    expect(r.got.map((g) => g.eventId).sort()).toEqual(['first', 'second']);
    await r.close();
  });

  it('SNS targets go to the SNS sender; an event id enqueued twice is delivered once', async () => {
    const sent: string[] = [];
    const sns: Sender = (d) => {
      sent.push(`${d.target} ${d.eventId}`);
      return Promise.resolve();
    };
    const n = note('e3', 'arn:aws:sns:us-east-1:000000000000:topic');
    expect(outbox.enqueue('d-1', [n], Date.now())).toBe(1);
    expect(outbox.enqueue('d-1', [n], Date.now())).toBe(0);
    await start({ sns });
    await until(() => outbox.get('e3')?.state === 'delivered');
    expect(sent).toEqual(['arn:aws:sns:us-east-1:000000000000:topic e3']);
  });

  it('prunes delivered rows older than a week when it starts, and keeps dead ones', async () => {
    const old = Date.now() - 8 * 86_400_000;
    outbox.enqueue('d-1', [note('old', 'http://127.0.0.1:1/'), note('gone', 'http://127.0.0.1:1/')], old);
    outbox.delivered('old', 1, old);
    outbox.failed('gone', 10, 'x', undefined, old);
    await start();
    expect(outbox.get('old')).toBeUndefined();
    expect(outbox.get('gone')?.state).toBe('dead');
  });

  describe('several coordinators on one outbox (replicas, each its own connection to the database)', () => {
    it('two replicas\' loops on one outbox send each notification once', async () => {
      const r = await receiver([], false, 50);
      const second = openSqliteStore(dir);
      try {
        const ids = Array.from({ length: 40 }, (_, i) => `e-${i}`);
        outbox.enqueue('d-1', ids.map((id) => note(id, r.url)), Date.now());
        const replicaA = create({ replicaId: 'a', exclusive: false });
        const replicaB = create({ replicaId: 'b', exclusive: false, outbox: createTriggerOutbox(second.db) });
        replicas.push(replicaA, replicaB);
        await replicaA.start();
        await replicaB.start();
        await until(() => outbox.countByState()['delivered'] === ids.length);
        expect(r.got.map((g) => g.eventId).sort()).toEqual([...ids].sort());
      } finally {
        for (const l of replicas.splice(0)) await l.stop();
        second.close();
        await r.close();
      }
    });

    it('sends a row a dead replica claimed once its claim lapses, not before', async () => {
      const r = await receiver();
      outbox.enqueue('d-1', [note('a-orphan', r.url), note('b-free', r.url)], Date.now());
      const claimedAt = Date.now();
      expect(outbox.claim(claimedAt, 1, 'dead-replica', claimedAt + 700).map((d) => d.eventId)).toEqual(['a-orphan']);
      await start({ replicaId: 'live', exclusive: false });
      await until(() => outbox.get('a-orphan')?.state === 'delivered');
      expect(r.got.map((g) => g.eventId)).toEqual(['b-free', 'a-orphan']);
      expect(outbox.get('b-free')!.finishedAt!).toBeLessThan(claimedAt + 700);
      expect(outbox.get('a-orphan')!.finishedAt!).toBeGreaterThanOrEqual(claimedAt + 700);
      expect(outbox.get('a-orphan')).not.toHaveProperty('claimedBy');
      await r.close();
    });

    it('a coordinator alone on its database (exclusive) sends at once the rows an earlier process claimed, saying so', async () => {
      const r = await receiver();
      outbox.enqueue('d-1', [note('left', r.url)], Date.now());
      outbox.claim(Date.now(), 10, 'killed-process', Date.now() + 60_000);
      const began = Date.now();
      await start({ replicaId: 'restarted', exclusive: true });
      await until(() => outbox.get('left')?.state === 'delivered', 5_000);
      expect(Date.now() - began).toBeLessThan(5_000); // not the claim's minute
      expect(logged.find((l) => l.msg.startsWith('trigger notifications an earlier coordinator process was sending'))).toMatchObject({ level: 30, released: 1 });
      await r.close();
    });

    it('a claim that cannot be released at start is logged at warn, and the loop still sends what it can', async () => {
      const r = await receiver();
      outbox.enqueue('d-1', [note('e4', r.url)], Date.now());
      outbox.releaseAll = () => {
        throw new Error('disk I/O error');
      };
      await start({ exclusive: true });
      await until(() => outbox.get('e4')?.state === 'delivered');
      expect(logged.find((l) => l.level === 40)).toMatchObject({ msg: 'could not release the trigger notifications an earlier process claimed', err: { message: 'disk I/O error' } });
      await r.close();
    });
  });
});
