/**
 * The coordinator's side stores on PostgreSQL, asynchronously, over a {@link PgQuery}: the PgStore
 * itself, or a transaction's handle so that their writes commit with the store's. Each keeps the
 * records, ordering and semantics of its SQLite counterpart (the contract suites in
 * testing/side-store-contract.ts hold both to them): the traffic journal, deployment schedules,
 * access keys, certificates and enrolment tokens, agent sessions, the trigger outbox and the blob
 * references. The bucket store, which needs transactions of its own, is pg-bucket-store.ts.
 *
 * Every method here is one statement, so it is atomic on its own whoever else writes: where the
 * SQLite store reads and then writes inside one synchronous call, the statement here does both
 * (a conditional UPDATE, INSERT … ON CONFLICT). BIGINT columns come back from `pg` as strings and
 * are read with Number (epoch milliseconds fit a double exactly).
 */
import type { AsyncStore } from '../async-store.js';
import type { PromisedMethods } from '../promised.js';
import type { AccessKeyRow, AccessKeyStore } from '../../auth/access-keys.js';
import { newAccessKeyId, newSecretAccessKey, toKey } from '../../auth/access-keys.js';
import type { AgentSessionRecord, AgentSessionStore } from '../../fleet/agent-sessions.js';
import type { CertificateRecord, CertificateStore, TokenRecord } from '../../ca/certificate-store.js';
import type { Delivery, TriggerOutbox } from '../../triggers/trigger-outbox.js';
import { inDueOrder } from '../../triggers/trigger-outbox.js';
import type { BlobReferences } from '../blob-references.js';
import type { AsyncTrafficStore, TrafficJournal } from '../traffic-store.js';
import type { TrafficState } from '../../deployment/traffic/plan.js';
import type { AsyncScheduleStore, ScheduleRecord } from '../schedule-store.js';
import type { PgQuery } from './pg-store.js';

export type { AsyncTrafficStore } from '../traffic-store.js';
export type { AsyncScheduleStore } from '../schedule-store.js';

type Doc = { doc: string };

/** pgTrafficStore keeps one {@link TrafficState} per deployment in `traffic_shifts`. */
export function pgTrafficStore(db: PgQuery): AsyncTrafficStore {
  return {
    get: async (deploymentId) => {
      const { rows } = await db.query('SELECT doc FROM traffic_shifts WHERE deployment_id = $1', [deploymentId]);
      return rows.length === 0 ? undefined : (JSON.parse((rows[0] as Doc).doc) as TrafficState);
    },
    put: async (state) => {
      await db.query('INSERT INTO traffic_shifts (deployment_id, doc) VALUES ($1, $2) ON CONFLICT (deployment_id) DO UPDATE SET doc = excluded.doc', [state.deploymentId, JSON.stringify(state)]);
    },
  };
}

/**
 * pgTrafficJournal opens the traffic journal through a PgStore or one of its transactions' handles
 * (both run raw statements: {@link PgQuery}); any other AsyncStore is refused, since the journal's
 * writes would not join its transactions.
 */
export const pgTrafficJournal: TrafficJournal = (db) => {
  if (typeof (db as Partial<PgQuery>).query !== 'function') throw new TypeError('the PostgreSQL traffic journal needs a PgStore or one of its transaction handles, not another AsyncStore');
  return pgTrafficStore(db as unknown as PgQuery);
};

/**
 * pgThrough opens a side store through a PgStore or one of its transactions' handles, as
 * {@link pgTrafficJournal} does the journal; any other AsyncStore is refused, since the side store's
 * writes would not join its transactions.
 */
export function pgThrough<S>(open: (db: PgQuery) => S, what: string): (db: AsyncStore) => S {
  return (db) => {
    if (typeof (db as Partial<PgQuery>).query !== 'function') throw new TypeError(`the PostgreSQL ${what} needs a PgStore or one of its transaction handles, not another AsyncStore`);
    return open(db as unknown as PgQuery);
  };
}

/** pgScheduleStore keeps the scheduled deployments in `deployment_schedules`, listed oldest first (seq from its sequence). */
export function pgScheduleStore(db: PgQuery): AsyncScheduleStore {
  return {
    get: async (id) => {
      const { rows } = await db.query('SELECT doc FROM deployment_schedules WHERE schedule_id = $1', [id]);
      return rows.length === 0 ? undefined : (JSON.parse((rows[0] as Doc).doc) as ScheduleRecord);
    },
    put: async (s) => {
      await db.query('INSERT INTO deployment_schedules (schedule_id, doc) VALUES ($1, $2) ON CONFLICT (schedule_id) DO UPDATE SET doc = excluded.doc', [s.scheduleId, JSON.stringify(s)]);
    },
    putIfScheduled: async (s) => (await db.query("UPDATE deployment_schedules SET doc = $2 WHERE schedule_id = $1 AND (doc::jsonb)->>'status' = 'Scheduled'", [s.scheduleId, JSON.stringify(s)])).rowCount === 1,
    delete: async (id) => {
      await db.query('DELETE FROM deployment_schedules WHERE schedule_id = $1', [id]);
    },
    list: async () => (await db.query('SELECT doc FROM deployment_schedules ORDER BY seq')).rows.map((r) => JSON.parse((r as Doc).doc) as ScheduleRecord),
  };
}

/** AsyncAccessKeyStore is {@link AccessKeyStore}, asynchronously. */
export type AsyncAccessKeyStore = PromisedMethods<AccessKeyStore>;
/** AsyncCertificateStore is {@link CertificateStore}, asynchronously. */
export type AsyncCertificateStore = PromisedMethods<CertificateStore>;
/** AsyncAgentSessionStore is {@link AgentSessionStore}, asynchronously. */
export type AsyncAgentSessionStore = PromisedMethods<AgentSessionStore>;
/** AsyncTriggerOutbox is {@link TriggerOutbox}, asynchronously. */
export type AsyncTriggerOutbox = PromisedMethods<TriggerOutbox>;
/** AsyncBlobReferences is {@link BlobReferences}, asynchronously. */
export type AsyncBlobReferences = PromisedMethods<BlobReferences>;

/** num reads a BIGINT (a string from `pg`) or an INTEGER as a number; null stays undefined. */
const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

/** pgAccessKeyStore keeps the access keys in `access_keys`; `count` is exact, `list` oldest first. */
export function pgAccessKeyStore(db: PgQuery): AsyncAccessKeyStore {
  const key = (r: Record<string, unknown>) => toKey({ ...(r as unknown as AccessKeyRow), created_at: Number(r.created_at), revoked_at: num(r.revoked_at) ?? null });
  return {
    create: async (role, now) => {
      const k = { id: newAccessKeyId(), secret: newSecretAccessKey(), role, createdAt: now };
      await db.query('INSERT INTO access_keys (id, secret, role, created_at) VALUES ($1, $2, $3, $4)', [k.id, k.secret, k.role, k.createdAt]);
      return k;
    },
    get: async (id) => {
      const { rows } = await db.query('SELECT id, secret, role, created_at, revoked_at FROM access_keys WHERE id = $1', [id]);
      return rows.length === 0 ? undefined : key(rows[0] as Record<string, unknown>);
    },
    list: async () =>
      (await db.query('SELECT id, secret, role, created_at, revoked_at FROM access_keys ORDER BY created_at, id COLLATE "C"')).rows.map((r) => {
        const { secret: _secret, ...summary } = key(r as Record<string, unknown>);
        return summary;
      }),
    // COALESCE keeps the first revocation time even when two replicas revoke at once.
    revoke: async (id, now) => ((await db.query('UPDATE access_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2', [now, id])).rowCount ?? 0) > 0,
    count: async () => Number((await db.query('SELECT COUNT(*) AS n FROM access_keys')).rows[0].n),
  };
}

/**
 * pgCertificateStore keeps enrolment tokens and issued certificates. useToken is one conditional
 * UPDATE, so of two replicas redeeming the same token at once exactly one gets true.
 */
export function pgCertificateStore(db: PgQuery): AsyncCertificateStore {
  const token = (r: Record<string, unknown>): TokenRecord => {
    const usedAt = num(r.used_at);
    return {
      tokenId: r.token_id as string,
      instanceName: r.instance_name as string,
      secretSha256: r.secret_sha256 as string,
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
      ...(usedAt === undefined ? {} : { usedAt }),
    };
  };
  const cert = (r: Record<string, unknown>): CertificateRecord => {
    const revokedAt = num(r.revoked_at);
    return {
      serial: r.serial as string,
      instanceName: r.instance_name as string,
      notBefore: Number(r.not_before),
      notAfter: Number(r.not_after),
      issuedAt: Number(r.issued_at),
      ...(revokedAt === undefined ? {} : { revokedAt }),
      ...(r.revoke_reason === null ? {} : { revokeReason: r.revoke_reason as string }),
    };
  };
  return {
    putToken: async (t) => {
      await db.query('INSERT INTO enrolment_tokens (token_id, instance_name, secret_sha256, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6)', [t.tokenId, t.instanceName, t.secretSha256, t.createdAt, t.expiresAt, t.usedAt ?? null]);
    },
    getToken: async (id) => {
      const { rows } = await db.query('SELECT * FROM enrolment_tokens WHERE token_id = $1', [id]);
      return rows.length === 0 ? undefined : token(rows[0] as Record<string, unknown>);
    },
    useToken: async (id, at) => (await db.query('UPDATE enrolment_tokens SET used_at = $1 WHERE token_id = $2 AND used_at IS NULL', [at, id])).rowCount === 1,
    retireTokens: async (name, at) => (await db.query('UPDATE enrolment_tokens SET used_at = $1 WHERE instance_name = $2 AND used_at IS NULL', [at, name])).rowCount ?? 0,
    putCertificate: async (c) => {
      await db.query('INSERT INTO certificates (serial, instance_name, not_before, not_after, issued_at, revoked_at, revoke_reason) VALUES ($1, $2, $3, $4, $5, $6, $7)', [c.serial, c.instanceName, c.notBefore, c.notAfter, c.issuedAt, c.revokedAt ?? null, c.revokeReason ?? null]);
    },
    getCertificate: async (serial) => {
      const { rows } = await db.query('SELECT * FROM certificates WHERE serial = $1', [serial]);
      return rows.length === 0 ? undefined : cert(rows[0] as Record<string, unknown>);
    },
    // Only unrevoked certificates: a second revocation keeps the first time and reason.
    revokeInstance: async (name, at, reason, keep = '') =>
      (await db.query('UPDATE certificates SET revoked_at = $1, revoke_reason = $2 WHERE instance_name = $3 AND revoked_at IS NULL AND serial <> $4', [at, reason, name, keep])).rowCount ?? 0,
    listCertificates: async (name) => (await db.query('SELECT * FROM certificates WHERE instance_name = $1 ORDER BY issued_at', [name])).rows.map((r) => cert(r as Record<string, unknown>)),
  };
}

/**
 * pgAgentSessionStore keeps each instance's latest agent session, for the replica `replicaId`
 * (undefined: a coordinator that runs alone); it changes only the open sessions that replica holds
 * (fleet/agent-sessions.ts says why). The batched heartbeats are one statement (SQLite: one
 * transaction of single-row updates). It first locks the batch's open sessions in instance order,
 * so two replicas writing overlapping batches queue behind each other instead of deadlocking on
 * rows taken in opposite orders.
 */
export function pgAgentSessionStore(db: PgQuery, replicaId?: string): AsyncAgentSessionStore {
  const holder = replicaId ?? null;
  const session = (r: Record<string, unknown>): AgentSessionRecord => {
    const disconnectedAt = num(r.disconnected_at);
    return {
      instanceName: r.instance_name as string,
      agentVersion: r.agent_version as string,
      connectedAt: Number(r.connected_at),
      lastHeartbeatAt: Number(r.last_heartbeat_at),
      ...(disconnectedAt === undefined ? {} : { disconnectedAt }),
      ...(r.held_by === null ? {} : { heldBy: r.held_by as string }),
    };
  };
  return {
    connected: async (name, version, at) => {
      await db.query(
        `INSERT INTO agent_sessions (instance_name, agent_version, connected_at, last_heartbeat_at, disconnected_at, held_by) VALUES ($1, $2, $3, $3, NULL, $4)
         ON CONFLICT (instance_name) DO UPDATE SET agent_version = excluded.agent_version, connected_at = excluded.connected_at, last_heartbeat_at = excluded.last_heartbeat_at, disconnected_at = NULL, held_by = excluded.held_by`,
        [name, version, at, holder],
      );
    },
    heartbeat: async (name, at) => {
      await db.query('UPDATE agent_sessions SET last_heartbeat_at = $1 WHERE instance_name = $2 AND disconnected_at IS NULL AND held_by IS NOT DISTINCT FROM $3', [at, name, holder]);
    },
    heartbeats: async (beats) => {
      if (beats.size === 0) return;
      await db.query(
        `WITH beat AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS b(name, at)),
           locked AS (SELECT s.instance_name FROM agent_sessions s WHERE s.instance_name = ANY($1::text[]) AND s.disconnected_at IS NULL AND s.held_by IS NOT DISTINCT FROM $3 ORDER BY s.instance_name COLLATE "C" FOR UPDATE)
         UPDATE agent_sessions s SET last_heartbeat_at = beat.at FROM beat, locked
         WHERE s.instance_name = beat.name AND s.instance_name = locked.instance_name AND s.disconnected_at IS NULL AND s.held_by IS NOT DISTINCT FROM $3`,
        [[...beats.keys()], [...beats.values()], holder],
      );
    },
    disconnected: async (name, at, lastSeen) => {
      await db.query('UPDATE agent_sessions SET disconnected_at = $1, last_heartbeat_at = GREATEST(last_heartbeat_at, $2) WHERE instance_name = $3 AND disconnected_at IS NULL AND held_by IS NOT DISTINCT FROM $4', [at, lastSeen, name, holder]);
    },
    closeAbandoned: async () => (await db.query('UPDATE agent_sessions SET disconnected_at = last_heartbeat_at WHERE disconnected_at IS NULL AND (held_by IS NULL OR held_by = $1)', [holder])).rowCount ?? 0,
    get: async (name) => {
      const { rows } = await db.query('SELECT * FROM agent_sessions WHERE instance_name = $1', [name]);
      return rows.length === 0 ? undefined : session(rows[0] as Record<string, unknown>);
    },
    notConnected: async (names) => {
      if (names.length === 0) return [];
      const { rows } = await db.query(
        'SELECT n.name, s.* FROM unnest($1::text[]) AS n(name) LEFT JOIN agent_sessions s ON s.instance_name = n.name WHERE s.instance_name IS NULL OR s.disconnected_at IS NOT NULL',
        [[...names]],
      );
      return rows.map((r: Record<string, unknown>) => (r.instance_name === null ? { instanceName: r.name as string } : { instanceName: r.name as string, session: session(r) }));
    },
  };
}

/**
 * pgTriggerOutbox keeps the notifications owed to trigger targets. enqueue is one INSERT … ON
 * CONFLICT DO NOTHING, so a repeated event counts once even when two replicas enqueue it at once;
 * the reports of attempts are the SQLite store's guarded UPDATEs (a late report never undoes a later one).
 *
 * claim is one UPDATE of the rows its subquery locks FOR UPDATE SKIP LOCKED. Two replicas claiming
 * at once take disjoint rows: the second skips the rows the first has locked instead of waiting for
 * them, and a row it reaches after the first committed is checked again against the claim condition
 * (the locking read sees the row's latest version), where the live claim excludes it.
 */
export function pgTriggerOutbox(db: PgQuery): AsyncTriggerOutbox {
  const delivery = (r: Record<string, unknown>): Delivery => {
    const finishedAt = num(r.finished_at);
    const claimedUntil = num(r.claimed_until);
    return {
      eventId: r.event_id as string,
      deploymentId: r.deployment_id as string,
      triggerName: r.trigger_name as string,
      triggerEvent: r.trigger_event as Delivery['triggerEvent'],
      target: r.target as string,
      subject: r.subject as string,
      body: r.body as string,
      createdAt: Number(r.created_at),
      attempts: Number(r.attempts),
      nextAttemptAt: Number(r.next_attempt_at),
      state: r.state as Delivery['state'],
      ...(r.last_error === null ? {} : { lastError: r.last_error as string }),
      ...(finishedAt === undefined ? {} : { finishedAt }),
      ...(r.claimed_by === null ? {} : { claimedBy: r.claimed_by as string }),
      ...(claimedUntil === undefined ? {} : { claimedUntil }),
    };
  };
  return {
    enqueue: async (deploymentId, notifications, now) => {
      if (notifications.length === 0) return 0;
      const column = (f: (n: (typeof notifications)[number]) => string) => notifications.map(f);
      const r = await db.query(
        `INSERT INTO trigger_deliveries (event_id, deployment_id, trigger_name, trigger_event, target, subject, body, created_at, next_attempt_at, state)
         SELECT e, $1, tn, te, tg, s, b, $7, $7, 'pending' FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::text[]) WITH ORDINALITY AS n(e, tn, te, tg, s, b, i)
         ORDER BY i ON CONFLICT (event_id) DO NOTHING`,
        [deploymentId, column((n) => n.eventId), column((n) => n.triggerName), column((n) => n.triggerEvent), column((n) => n.target), column((n) => n.subject), now, column((n) => n.body)],
      );
      return r.rowCount ?? 0;
    },
    due: async (now, limit) =>
      (await db.query("SELECT * FROM trigger_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, created_at LIMIT $2", [now, limit])).rows.map((r) => delivery(r as Record<string, unknown>)),
    claim: async (now, limit, claimant, until) =>
      inDueOrder(
        (
          await db.query(
            `UPDATE trigger_deliveries SET claimed_by = $3, claimed_until = $4
             WHERE event_id IN (SELECT event_id FROM trigger_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
               ORDER BY next_attempt_at, created_at, event_id COLLATE "C" LIMIT $2 FOR UPDATE SKIP LOCKED)
             RETURNING *`,
            [now, limit, claimant, until],
          )
        ).rows.map((r) => delivery(r as Record<string, unknown>)),
      ),
    release: async (eventId, claimant) => {
      await db.query('UPDATE trigger_deliveries SET claimed_by = NULL, claimed_until = NULL WHERE event_id = $1 AND claimed_by = $2', [eventId, claimant]);
    },
    releaseAll: async () => (await db.query('UPDATE trigger_deliveries SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by IS NOT NULL')).rowCount ?? 0,
    nextDue: async () => num((await db.query("SELECT MIN(GREATEST(next_attempt_at, claimed_until)) AS t FROM trigger_deliveries WHERE state = 'pending'")).rows[0].t),
    delivered: async (eventId, attempts, now) => {
      await db.query("UPDATE trigger_deliveries SET state = 'delivered', attempts = $1, finished_at = $2, last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE event_id = $3 AND state <> 'delivered'", [attempts, now, eventId]);
    },
    failed: async (eventId, attempts, error, retryAt, now) => {
      if (retryAt === undefined) await db.query("UPDATE trigger_deliveries SET state = 'dead', attempts = $1, last_error = $2, finished_at = $3, claimed_by = NULL, claimed_until = NULL WHERE event_id = $4 AND state = 'pending' AND attempts < $1", [attempts, error, now, eventId]);
      else await db.query("UPDATE trigger_deliveries SET attempts = $1, last_error = $2, next_attempt_at = $3, claimed_by = NULL, claimed_until = NULL WHERE event_id = $4 AND state = 'pending' AND attempts < $1", [attempts, error, retryAt, eventId]);
    },
    get: async (eventId) => {
      const { rows } = await db.query('SELECT * FROM trigger_deliveries WHERE event_id = $1', [eventId]);
      return rows.length === 0 ? undefined : delivery(rows[0] as Record<string, unknown>);
    },
    list: async (state, limit) => (await db.query('SELECT * FROM trigger_deliveries WHERE state = $1 ORDER BY created_at DESC LIMIT $2', [state, limit])).rows.map((r) => delivery(r as Record<string, unknown>)),
    countByState: async () => Object.fromEntries((await db.query('SELECT state, COUNT(*)::int AS n FROM trigger_deliveries GROUP BY state')).rows.map((r: { state: string; n: number }) => [r.state, r.n])),
    prune: async (before) => (await db.query("DELETE FROM trigger_deliveries WHERE state = 'delivered' AND finished_at < $1", [before])).rowCount ?? 0,
  };
}

/**
 * pgBlobReferences answers the blob collector's questions (store/blob-references.ts) from committed
 * rows. The deployments' bundle is read with migration 8's index expression, so `has` uses it.
 */
export function pgBlobReferences(db: PgQuery): AsyncBlobReferences {
  const BUNDLE = "((doc::jsonb) #>> '{bundle,sha256}')";
  return {
    all: async () =>
      new Set(
        (
          await db.query(`SELECT sha256 FROM bucket_objects UNION SELECT sha256 FROM bucket_upload_parts UNION SELECT ${BUNDLE} AS sha256 FROM deployments WHERE ${BUNDLE} IS NOT NULL`)
        ).rows.map((r: { sha256: string }) => r.sha256),
      ),
    has: async (sha256) =>
      (
        await db.query(
          `SELECT EXISTS (SELECT 1 FROM bucket_objects WHERE sha256 = $1) OR EXISTS (SELECT 1 FROM bucket_upload_parts WHERE sha256 = $1)
             OR EXISTS (SELECT 1 FROM deployments WHERE ${BUNDLE} = $1) AS found`,
          [sha256],
        )
      ).rows[0].found === true,
  };
}
