/**
 * The delivery loop: sends the outbox's due notifications in the background, at least once each.
 * A failed attempt is tried again after an exponential backoff (retry-backoff.ts); after the
 * configured attempts the delivery is dead: logged at warn, kept in the outbox (state dead) and
 * counted in /metrics. Nothing here waits on the deployment path: the engine only writes rows.
 *
 * Receivers deduplicate by the event id (X-Fleetdeploy-Event-Id): an attempt whose answer was lost
 * (a timeout, or a coordinator killed mid-request) is sent again with the same id.
 *
 * Several coordinators may share the outbox (replicas on one database): each takes the rows it sends
 * by claiming them (trigger-outbox.ts) for longer than an attempt can last, so no two send a row at
 * once. A replica that dies mid-send leaves claims that lapse, and then another replica sends the rows.
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import type { Delivery } from './trigger-outbox.js';
import type { AsyncTriggerOutbox } from '../store/pg/pg-side-stores.js';
import type { RetryPolicy } from './retry-backoff.js';
import { nextAttemptAt } from './retry-backoff.js';
import { targetOf } from './trigger-messages.js';
import type { Sender } from './trigger-senders.js';

/** Deliveries sent at once; more wait for the next pass. */
const BATCH = 16;
/** The loop looks at the outbox at least this often, besides being woken by new rows. */
const IDLE_POLL_MS = 1_000;
/**
 * How long a claim holds a row: longer than any attempt (the senders give up within 15 s), so a
 * live replica's claim never lapses while it sends; a dead replica's rows wait this long at most.
 */
export const CLAIM_TTL_MS = 60_000;
/** Delivered rows are kept this long (a week) for inspection, then pruned. */
const KEEP_DELIVERED_MS = 7 * 86_400_000;

export interface TriggerDeliveryDeps {
  outbox: AsyncTriggerOutbox;
  sns: Sender;
  webhook: Sender;
  clock: Clock;
  retry: RetryPolicy;
  log: Logger;
  /** replicaId names this coordinator process in its claims: unique to the process (a restart is a new id). */
  replicaId: string;
  /**
   * exclusive: no other coordinator shares the outbox (SQLite, under the data directory's lock), so
   * claims found at start are a dead process's and are dropped: its rows are sent at once, not after
   * their claims lapse.
   */
  exclusive?: boolean;
  /** claimTtlMs overrides {@link CLAIM_TTL_MS} (tests). */
  claimTtlMs?: number;
}

/** TriggerDelivery is the running loop. */
export interface TriggerDelivery {
  /** start releases an earlier process's claims (exclusive), prunes, and starts the loop; it never rejects. */
  start(): Promise<void>;
  /** wake asks for a pass soon (new rows were committed). */
  wake(): void;
  /** stop ends the loop and waits for the attempts under way. */
  stop(): Promise<void>;
}

/** createTriggerDelivery builds the loop; call start() once the store is open. */
export function createTriggerDelivery(deps: TriggerDeliveryDeps): TriggerDelivery {
  const { outbox, clock, retry, log, replicaId } = deps;
  const claimTtlMs = deps.claimTtlMs ?? CLAIM_TTL_MS;
  const inFlight = new Map<string, Promise<void>>();
  let timer: Timer | undefined;
  let running = false;
  let passQueued = false;
  /** The pass under way: passes run one at a time (a timer that fires during one asks for another after it). */
  let passing: Promise<void> | undefined;
  let passAgain = false;
  /** Aborted by stop(): a target that holds an attempt must not hold the coordinator's shutdown. */
  const stopping = new AbortController();

  function schedule(ms: number): void {
    if (!running) return;
    timer?.cancel();
    timer = clock.setTimeout(pass, ms);
  }

  async function attempt(d: Delivery): Promise<void> {
    const target = targetOf(d.target);
    const attempts = d.attempts + 1;
    try {
      await (target.kind === 'webhook' ? deps.webhook : deps.sns)(d, stopping.signal);
    } catch (err) {
      // An attempt cut short by stop() is not counted: the row stays as it was (unclaimed) and is sent after the restart.
      if (stopping.signal.aborted) {
        await outbox.release(d.eventId, replicaId);
        return;
      }
      const error = (err as Error).message;
      const now = clock.now();
      const retryAt = nextAttemptAt(attempts, now, retry);
      await outbox.failed(d.eventId, attempts, error, retryAt, now);
      if (retryAt === undefined) log.warn({ eventId: d.eventId, deploymentId: d.deploymentId, trigger: d.triggerName, triggerEvent: d.triggerEvent, target: d.target, attempts, error }, 'trigger notification dead: gave up after the configured attempts');
      else log.debug({ eventId: d.eventId, trigger: d.triggerName, attempts, error, retryInMs: retryAt - now }, 'trigger notification failed; will retry');
      return;
    }
    await outbox.delivered(d.eventId, attempts, clock.now());
    log.debug({ eventId: d.eventId, trigger: d.triggerName, triggerEvent: d.triggerEvent, attempts }, 'trigger notification delivered');
  }

  function pass(): void {
    passQueued = false;
    if (!running) return;
    if (passing !== undefined) {
      passAgain = true;
      return;
    }
    passing = passOnce().finally(() => {
      passing = undefined;
      if (passAgain) {
        passAgain = false;
        wake();
      }
    });
  }

  async function passOnce(): Promise<void> {
    let due: Delivery[] = [];
    try {
      const now = clock.now();
      // A row still in flight here is claimed again only if its attempt outlasted the claim; it is not sent twice.
      due = (await outbox.claim(now, BATCH, replicaId, now + claimTtlMs)).filter((d) => !inFlight.has(d.eventId));
    } catch (err) {
      log.error({ err }, 'could not read the trigger outbox');
    }
    for (const d of due) {
      const p = attempt(d)
        .catch((err: unknown) => log.error({ err, eventId: d.eventId }, 'could not record a trigger delivery attempt'))
        .finally(() => {
          inFlight.delete(d.eventId);
          wake();
        });
      inFlight.set(d.eventId, p);
    }
    let next: number | undefined;
    try {
      next = await outbox.nextDue();
    } catch {
      next = undefined;
    }
    const delay = next === undefined ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, Math.max(0, next - clock.now()));
    // Woken while this pass read the outbox: keep that wake's timer, which this one would replace.
    if (passQueued) return;
    // Nothing new to send yet something due (rows whose attempts here outlasted their claims): wait for
    // an attempt to end (it wakes the loop) or the idle poll, rather than asking again at once.
    schedule(due.length === 0 && delay === 0 ? IDLE_POLL_MS : delay);
  }

  function wake(): void {
    if (!running || passQueued) return;
    passQueued = true;
    schedule(0);
  }

  return {
    async start() {
      running = true;
      if (deps.exclusive === true) {
        try {
          const released = await outbox.releaseAll();
          if (released > 0) log.info({ released }, 'trigger notifications an earlier coordinator process was sending will be sent again');
        } catch (err) {
          log.warn({ err }, 'could not release the trigger notifications an earlier process claimed');
        }
      }
      try {
        const pruned = await outbox.prune(clock.now() - KEEP_DELIVERED_MS);
        if (pruned > 0) log.debug({ pruned }, 'pruned delivered trigger notifications');
      } catch (err) {
        log.warn({ err }, 'could not prune delivered trigger notifications');
      }
      wake();
    },
    wake,
    async stop() {
      running = false;
      timer?.cancel();
      stopping.abort();
      await passing;
      await Promise.all(inFlight.values());
    },
  };
}
