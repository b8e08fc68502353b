/**
 * The trigger recorder turns the engine's and the traffic driver's events into outbox rows for the
 * event's deployment group's triggers (triggerConfigurations). It reads the records the event names
 * through the caller's transaction handle and writes the rows in that transaction: on SQLite the
 * outbox shares the store's one connection, which the transaction holds while its body runs; on
 * PostgreSQL the outbox is made over the transaction's handle (`outbox` as a function of it).
 */
import type { Logger } from 'pino';
import type { AsyncStore } from '../store/async-store.js';
import type { DeploymentEvent } from '../deployment/events.js';
import type { TriggerOutbox } from './trigger-outbox.js';
import type { TriggerConfig } from './trigger-messages.js';
import { notificationsFor, triggerEventsOf } from './trigger-messages.js';

/** TriggerReads is what the recorder reads, through the transaction it records in. */
export type TriggerReads = Pick<AsyncStore, 'getDeployment' | 'getGroupById' | 'listTargets' | 'getTarget' | 'getInstance'>;

/** OutboxWrites is the one outbox write the recorder makes, synchronously (SQLite) or not (PostgreSQL). */
export interface OutboxWrites {
  enqueue(...args: Parameters<TriggerOutbox['enqueue']>): number | Promise<number>;
}

export interface TriggerRecorderDeps {
  /** The outbox, or the outbox over a transaction's handle (PostgreSQL: pgTriggerOutbox(tx)). */
  outbox: OutboxWrites | ((tx: TriggerReads) => OutboxWrites);
  region: string;
  accountId: string;
  arnPrefix: string;
  now: () => number;
  log: Logger;
}

/** TriggerRecorder records what events owe, reading through `tx` (the transaction it writes in); resolves to how many rows it added. */
export type TriggerRecorder = (tx: TriggerReads, events: readonly DeploymentEvent[]) => Promise<number>;

/** createTriggerRecorder builds the recorder. */
export function createTriggerRecorder(deps: TriggerRecorderDeps): TriggerRecorder {
  const { outbox, log } = deps;
  return async (tx, events) => {
    let added = 0;
    const rows = typeof outbox === 'function' ? outbox(tx) : outbox;
    for (const event of events) {
      if (event.type !== 'deployment' && event.type !== 'instance') continue;
      const deployment = await tx.getDeployment(event.deploymentId);
      if (deployment === undefined || triggerEventsOf(event, deployment).length === 0) continue;
      const triggers = triggersOf((await tx.getGroupById(deployment.deploymentGroupId))?.extra.triggerConfigurations);
      if (triggers.length === 0) continue;
      let instanceArn: string | undefined;
      let targets;
      if (event.type === 'instance') {
        const target = await tx.getTarget(event.deploymentId, event.instanceName);
        targets = target === undefined ? [] : [target];
        instanceArn = (await tx.getInstance(event.instanceName))?.instanceArn ?? `${deps.arnPrefix}:instance/${event.instanceName}`;
      } else {
        targets = await tx.listTargets(event.deploymentId);
      }
      const notifications = notificationsFor(event, triggers, { region: deps.region, accountId: deps.accountId, deployment, targets, ...(instanceArn === undefined ? {} : { instanceArn }) });
      if (notifications.length === 0) continue;
      added += await rows.enqueue(event.deploymentId, notifications, deps.now());
      log.debug({ deploymentId: event.deploymentId, triggers: notifications.map((n) => `${n.triggerName}:${n.triggerEvent}`) }, 'trigger notifications queued');
    }
    return added;
  };
}

/**
 * triggersOf reads a group's stored triggerConfigurations, leaving out any entry not of the validated
 * shape: a malformed entry must not fail the engine step it is recorded in.
 */
export function triggersOf(stored: unknown): TriggerConfig[] {
  if (!Array.isArray(stored)) return [];
  return stored.filter((t): t is TriggerConfig => {
    const c = t as Partial<TriggerConfig> | null;
    return typeof c === 'object' && c !== null && typeof c.triggerName === 'string' && typeof c.triggerTargetArn === 'string' && Array.isArray(c.triggerEvents);
  });
}
