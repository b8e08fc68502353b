/**
 * What a deployment group's triggers say, in the JSON CodeDeploy publishes to a trigger's SNS topic
 * (its "JSON data formats for CodeDeploy triggers"): pure functions from an engine event and the
 * records it names to the notifications due, one per trigger that listens for the event's type.
 *
 * Times are epoch seconds with milliseconds, as strings ("1446744188.595"). deploymentOverview and
 * errorInformation are JSON documents inside a string, as CodeDeploy's messages carry them;
 * lifecycleEvents is an array, as in CodeDeploy's sample.
 */
import { createHash } from 'node:crypto';
import type { DeploymentEvent } from '../deployment/events.js';
import type { DeploymentRecord, TargetRecord } from '../store/records.js';

/** TRIGGER_EVENT_TYPES are CodeDeploy's TriggerEventType values. */
export const TRIGGER_EVENT_TYPES = [
  'DeploymentStart', 'DeploymentSuccess', 'DeploymentFailure', 'DeploymentStop', 'DeploymentRollback', 'DeploymentReady',
  'InstanceStart', 'InstanceSuccess', 'InstanceFailure', 'InstanceReady',
] as const;
export type TriggerEventType = (typeof TRIGGER_EVENT_TYPES)[number];

/** TriggerConfig is one entry of a group's triggerConfigurations, as stored. */
export interface TriggerConfig {
  triggerName: string;
  triggerTargetArn: string;
  triggerEvents: string[];
}

/** Where a notification is sent: an SNS topic, or a webhook (an http:// or https:// URL). */
export type TriggerTarget = { kind: 'sns'; topicArn: string } | { kind: 'webhook'; url: string };

/** targetOf tells a trigger's target kind from its triggerTargetArn. */
export function targetOf(triggerTargetArn: string): TriggerTarget {
  return /^https?:\/\//i.test(triggerTargetArn) ? { kind: 'webhook', url: triggerTargetArn } : { kind: 'sns', topicArn: triggerTargetArn };
}

/** Notification is one message due to one trigger's target. */
export interface Notification {
  /** Stable for the same event, deployment, instance and trigger: a repeated event yields the same id. */
  eventId: string;
  triggerName: string;
  triggerEvent: TriggerEventType;
  target: string;
  /** The SNS Subject (at most 100 characters, as SNS allows). */
  subject: string;
  /** The JSON message. */
  body: string;
}

/** The records a notification is built from, read after (or within) the step that made the event. */
export interface EventContext {
  region: string;
  accountId: string;
  deployment: DeploymentRecord;
  /** The deployment's targets (for deploymentOverview), or the one instance of an instance event. */
  targets: readonly TargetRecord[];
  /** The instance's ARN, for instance events. */
  instanceArn?: string;
}

/**
 * triggerEventsOf maps an engine event to the trigger event types it is. A rollback deployment
 * starting is both its own DeploymentStart and the group's DeploymentRollback.
 */
export function triggerEventsOf(event: DeploymentEvent, deployment: Pick<DeploymentRecord, 'creator'>): TriggerEventType[] {
  if (event.type === 'deployment') {
    switch (event.status) {
      case 'InProgress':
        return deployment.creator === 'codeDeployRollback' ? ['DeploymentStart', 'DeploymentRollback'] : ['DeploymentStart'];
      case 'Succeeded':
        return ['DeploymentSuccess'];
      case 'Failed':
        return ['DeploymentFailure'];
      case 'Stopped':
        return ['DeploymentStop'];
      case 'Ready':
        return ['DeploymentReady'];
      default:
        return [];
    }
  }
  if (event.type === 'instance') {
    switch (event.status) {
      case 'InProgress':
        return ['InstanceStart'];
      case 'Succeeded':
        return ['InstanceSuccess'];
      case 'Failed':
        return ['InstanceFailure'];
      case 'Ready':
        return ['InstanceReady'];
      default:
        return [];
    }
  }
  return [];
}

/** epochSeconds is CodeDeploy's trigger time text: seconds with three decimals. */
export function epochSeconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** The status word of a deployment notification, in CodeDeploy's capitals. */
const DEPLOYMENT_STATUS: Record<string, string> = {
  DeploymentStart: 'CREATED',
  DeploymentRollback: 'CREATED',
  DeploymentSuccess: 'SUCCEEDED',
  DeploymentFailure: 'FAILED',
  DeploymentStop: 'STOPPED',
  DeploymentReady: 'READY',
};

/** deploymentOverview counts the deployment's instances by status, each count a string. */
export function deploymentOverview(targets: readonly Pick<TargetRecord, 'status'>[]): Record<string, string> {
  const count = (status: string): string => String(targets.filter((t) => t.status === status).length);
  return { Failed: count('Failed'), InProgress: count('InProgress'), Pending: count('Pending'), Skipped: count('Skipped'), Succeeded: count('Succeeded'), Ready: count('Ready') };
}

/** deploymentMessage is the JSON of a deployment trigger. */
export function deploymentMessage(triggerName: string, type: TriggerEventType, ctx: EventContext): Record<string, unknown> {
  const d = ctx.deployment;
  return {
    region: ctx.region,
    accountId: ctx.accountId,
    eventTriggerName: triggerName,
    applicationName: d.applicationName,
    deploymentId: d.deploymentId,
    deploymentGroupName: d.deploymentGroupName,
    createTime: epochSeconds(d.createTime),
    ...(d.completeTime === undefined ? {} : { completeTime: epochSeconds(d.completeTime) }),
    deploymentOverview: JSON.stringify(deploymentOverview(ctx.targets)),
    status: DEPLOYMENT_STATUS[type] ?? d.status.toUpperCase(),
    ...(d.errorInformation === undefined ? {} : { errorInformation: JSON.stringify({ ErrorCode: d.errorInformation.code, ErrorMessage: d.errorInformation.message }) }),
  };
}

/** instanceMessage is the JSON of an instance trigger. */
export function instanceMessage(triggerName: string, ctx: EventContext, target: TargetRecord): Record<string, unknown> {
  return {
    region: ctx.region,
    accountId: ctx.accountId,
    eventTriggerName: triggerName,
    deploymentId: ctx.deployment.deploymentId,
    instanceId: ctx.instanceArn ?? target.targetId,
    lastUpdatedAt: epochSeconds(target.lastUpdatedAt),
    instanceStatus: target.status,
    lifecycleEvents: target.lifecycleEvents.map((e) => ({
      LifecycleEvent: e.lifecycleEventName,
      LifecycleEventStatus: e.status,
      ...(e.startTime === undefined ? {} : { StartTime: epochSeconds(e.startTime) }),
      ...(e.endTime === undefined ? {} : { EndTime: epochSeconds(e.endTime) }),
    })),
  };
}

/** subjectOf is the SNS Subject: "<STATUS>: AWS CodeDeploy <id> in <region> to <application>", cut to SNS's 100 characters. */
export function subjectOf(status: string, ctx: EventContext): string {
  return `${status}: AWS CodeDeploy ${ctx.deployment.deploymentId} in ${ctx.region} to ${ctx.deployment.applicationName}`.slice(0, 100);
}

/** eventIdOf names one notification: the same event seen twice (a resumed step) gets the same id. */
export function eventIdOf(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}

/**
 * notificationsFor lists the notifications `event` owes to `triggers`: one per trigger whose
 * triggerEvents include one of the event's types.
 */
export function notificationsFor(event: DeploymentEvent, triggers: readonly TriggerConfig[], ctx: EventContext): Notification[] {
  const types = triggerEventsOf(event, ctx.deployment);
  const out: Notification[] = [];
  for (const type of types) {
    for (const trigger of triggers) {
      if (!trigger.triggerEvents.includes(type)) continue;
      if (event.type === 'instance') {
        const target = ctx.targets.find((t) => t.targetId === event.instanceName);
        if (target === undefined) continue;
        const message = instanceMessage(trigger.triggerName, ctx, target);
        out.push({
          eventId: eventIdOf([event.deploymentId, event.instanceName, type, trigger.triggerName]),
          triggerName: trigger.triggerName,
          triggerEvent: type,
          target: trigger.triggerTargetArn,
          subject: subjectOf(target.status.toUpperCase(), ctx),
          body: JSON.stringify(message),
        });
      } else {
        const message = deploymentMessage(trigger.triggerName, type, ctx);
        out.push({
          eventId: eventIdOf([event.deploymentId, type, trigger.triggerName]),
          triggerName: trigger.triggerName,
          triggerEvent: type,
          target: trigger.triggerTargetArn,
          subject: subjectOf(message.status as string, ctx),
          body: JSON.stringify(message),
        });
      }
    }
  }
  return out;
}
