/**
 * The trigger recorder turns the engine's and the traffic driver's events into outbox rows for the
 * event's deployment group's triggers (triggerConfigurations). It reads the records the event names
 * and writes in the caller's transaction when there is one.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { DeploymentEvent } from '../deployment/events.js';
import type { TriggerOutbox } from './trigger-outbox.js';
import type { TriggerConfig } from './trigger-messages.js';
import { notificationsFor, triggerEventsOf } from './trigger-messages.js';

export interface TriggerRecorderDeps {
  store: Pick<Store, 'getDeployment' | 'getGroupById' | 'listTargets' | 'getTarget' | 'getInstance'>;
  outbox: TriggerOutbox;
  region: string;
  accountId: string;
  arnPrefix: string;
  now: () => number;
  log: Logger;
}

/** TriggerRecorder records what events owe; returns how many rows it added. */
export type TriggerRecorder = (events: readonly DeploymentEvent[]) => number;

/** createTriggerRecorder builds the recorder. */
export function createTriggerRecorder(deps: TriggerRecorderDeps): TriggerRecorder {
  const { store, outbox, log } = deps;
  return (events) => {
    let added = 0;
    for (const event of events) {
      if (event.type !== 'deployment' && event.type !== 'instance') continue;
      const deployment = store.getDeployment(event.deploymentId);
      if (deployment === undefined || triggerEventsOf(event, deployment).length === 0) continue;
      const triggers = triggersOf(store.getGroupById(deployment.deploymentGroupId)?.extra.triggerConfigurations);
      if (triggers.length === 0) continue;
      let instanceArn: string | undefined;
      let targets;
      if (event.type === 'instance') {
        const target = store.getTarget(event.deploymentId, event.instanceName);
        targets = target === undefined ? [] : [target];
        instanceArn = store.getInstance(event.instanceName)?.instanceArn ?? `${deps.arnPrefix}:instance/${event.instanceName}`;
      } else {
        targets = store.listTargets(event.deploymentId);
      }
      const notifications = notificationsFor(event, triggers, { region: deps.region, accountId: deps.accountId, deployment, targets, ...(instanceArn === undefined ? {} : { instanceArn }) });
      if (notifications.length === 0) continue;
      added += outbox.enqueue(event.deploymentId, notifications, deps.now());
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
