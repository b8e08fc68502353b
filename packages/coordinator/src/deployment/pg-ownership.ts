/**
 * Deployment ownership on PostgreSQL (issue 13): the leases in the shared database, the fencing
 * check through a step's transaction, and the wake-ups that tell the other replicas what a step
 * wrote (store/pg/pg-wakeups.ts): `fd_commands` keyed by instance name (commands or cancels for its
 * agent), `fd_results` keyed by deployment id (agents' reports stored for its owner).
 *
 * Wiring in a replica (the composition root):
 *
 *   const ownership = createPgOwnership(store, { replicaId, ttlMs });
 *   const engine = createEngine({ ..., store, ownership });
 *   const listener = createWakeupListener({ connection: url, log, ...engineWakeups(engine) });
 *   await engine.start();
 *   // stopping: await engine.stop(); await listener.close(); await ownership.stop();
 */
import type { WakeupChannel, WakeupListenerOptions } from '../store/pg/pg-wakeups.js';
import { MAX_WAKEUP_KEY_BYTES, notifyWakeups } from '../store/pg/pg-wakeups.js';
import { encodeEvents } from './event-relay.js';
import type { PgStore, PgTransaction } from '../store/pg/pg-store.js';
import { pgLeaseStore } from '../lease/pg-lease-store.js';
import type { Engine } from './engine.js';
import type { DeploymentOwnership, OwnershipOptions } from './ownership.js';
import { createDeploymentOwnership } from './ownership.js';

/** PgOwnershipOptions: this replica's id and its leases' duration. */
export type PgOwnershipOptions = Pick<OwnershipOptions, 'replicaId' | 'ttlMs' | 'safetyMs' | 'clock' | 'onError'>;

/** createPgOwnership is the engine's ownership over `store`'s database. */
export function createPgOwnership(store: PgStore, options: PgOwnershipOptions): DeploymentOwnership {
  return createDeploymentOwnership({
    ...options,
    leases: pgLeaseStore(store),
    // The engine's steps run in PgStore transactions, whose handles run raw statements too.
    leasesIn: (tx) => pgLeaseStore(tx as PgTransaction),
    commandsWritten: (tx, instanceNames) => notifyWakeups(tx as PgTransaction, 'fd_commands', instanceNames),
    eventsWritten: (tx, events) => notifyWakeups(tx as PgTransaction, 'fd_events', encodeEvents(options.replicaId, events, MAX_WAKEUP_KEY_BYTES)),
    reportsStored: (tx, deploymentIds) => notifyWakeups(tx as PgTransaction, 'fd_results', deploymentIds),
    // An open session (agent_sessions, migrations 7 and 16) is an agent connected to some replica now.
    agentsOnline: async (instanceNames) =>
      new Set((await store.query('SELECT instance_name FROM agent_sessions WHERE instance_name = ANY($1::text[]) AND disconnected_at IS NULL', [[...instanceNames]])).rows.map((r: { instance_name: string }) => r.instance_name)),
  });
}

/**
 * engineWakeups is what a wake-up listener hands the engine: the keys that came in one turn of the
 * event loop go over together, one engine step per channel.
 */
export function engineWakeups(engine: Pick<Engine, 'commandsWaiting' | 'reportsWaiting' | 'wakeupsMissed'> & { eventsRelayed?(payloads: readonly string[]): void }): Pick<WakeupListenerOptions, 'channels' | 'onWake' | 'onMissed'> {
  const keys: Record<WakeupChannel, Set<string>> = { fd_commands: new Set(), fd_results: new Set(), fd_events: new Set() };
  let flush: NodeJS.Immediate | undefined;
  const handOver = (): void => {
    flush = undefined;
    const instances = [...keys.fd_commands];
    const deployments = [...keys.fd_results];
    const events = [...keys.fd_events];
    keys.fd_commands.clear();
    keys.fd_results.clear();
    keys.fd_events.clear();
    if (events.length > 0) engine.eventsRelayed?.(events);
    if (deployments.length > 0) void engine.reportsWaiting(deployments);
    if (instances.length > 0) void engine.commandsWaiting(instances);
  };
  return {
    channels: ['fd_commands', 'fd_results', 'fd_events'],
    onWake(channel, key) {
      keys[channel].add(key);
      flush ??= setImmediate(handOver);
    },
    onMissed: () => void engine.wakeupsMissed(),
  };
}
