/**
 * The policy flags of `group create`, read once into CodeDeploy's shapes: `--auto-rollback`,
 * `--trigger` and `--compute-platform` (of `app create`). The allowed values come from the SDK's
 * own enums, so they stay those of the API the coordinator speaks.
 */
import { AutoRollbackEvent, ComputePlatform, TriggerEventType } from '@aws-sdk/client-codedeploy';
import type { AutoRollbackConfiguration, TriggerConfig } from '@aws-sdk/client-codedeploy';
import { CliError, CliErrorCode } from '../cli-error.js';
import { isWebhookUrl } from '@fleetdeploy/shared';

const ROLLBACK_EVENTS: readonly string[] = Object.values(AutoRollbackEvent);
const TRIGGER_EVENTS: readonly string[] = Object.values(TriggerEventType);
const PLATFORMS: readonly string[] = Object.values(ComputePlatform);

/**
 * parseAutoRollback reads the `--auto-rollback` values (each a comma list, case ignored), e.g.
 * `DEPLOYMENT_FAILURE,DEPLOYMENT_STOP_ON_REQUEST` → `{enabled: true, events: [both]}`.
 */
export function parseAutoRollback(values: readonly string[]): AutoRollbackConfiguration {
  const events: AutoRollbackEvent[] = [];
  for (const item of values.flatMap((v) => v.split(','))) {
    const event = item.trim().toUpperCase();
    if (!ROLLBACK_EVENTS.includes(event)) throw usage(`--auto-rollback: ${JSON.stringify(item.trim())} is not one of ${ROLLBACK_EVENTS.join(', ')}`);
    if (!events.includes(event as AutoRollbackEvent)) events.push(event as AutoRollbackEvent);
  }
  return { enabled: true, events };
}

/** TRIGGER_KEYS are the parts of a `--trigger` and the TriggerConfig field each fills. */
const TRIGGER_KEYS = { name: 'triggerName', target: 'triggerTargetArn', events: 'triggerEvents' } as const;
type TriggerKey = keyof typeof TRIGGER_KEYS;

/**
 * parseTrigger reads one `--trigger name=N,target=ARN_OR_URL,events=E1,E2` (a webhook URL without commas). As in the AWS CLI's shorthand,
 * a part without `=` continues the list before it, so `events=DeploymentFailure,DeploymentStop` is
 * two events. Event names are matched ignoring case.
 */
export function parseTrigger(text: string): TriggerConfig {
  const where = `--trigger ${JSON.stringify(text)}`;
  const parts: Partial<Record<TriggerKey, string[]>> = {};
  let last: TriggerKey | undefined;
  for (const piece of text.split(',')) {
    const eq = piece.indexOf('=');
    if (eq < 0) {
      if (last !== 'events') throw usage(`${where}: ${JSON.stringify(piece)} is not KEY=VALUE (keys: name, target, events)`);
      parts.events!.push(piece.trim());
      continue;
    }
    const key = piece.slice(0, eq).trim();
    if (!(key in TRIGGER_KEYS)) throw usage(`${where}: unknown key ${JSON.stringify(key)} (keys: name, target, events)`);
    if (parts[key as TriggerKey] !== undefined) throw usage(`${where}: ${key} is given twice`);
    last = key as TriggerKey;
    parts[last] = [piece.slice(eq + 1).trim()];
  }
  const name = parts.name?.[0];
  const target = parts.target?.[0];
  if (!name) throw usage(`${where}: name= is missing (the trigger's name)`);
  if (!target) throw usage(`${where}: target= is missing (the SNS topic ARN or webhook URL to notify)`);
  if (!/^arn:[^:\s]+:sns:[^:\s]*:\d*:\S+$/.test(target) && !isWebhookUrl(target)) {
    throw usage(`${where}: target ${JSON.stringify(target)} is neither an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC) nor an http:// or https:// webhook URL`);
  }
  const events = (parts.events ?? []).filter((e) => e !== '');
  if (events.length === 0) throw usage(`${where}: events= is missing: name at least one of ${TRIGGER_EVENTS.join(', ')}`);
  const triggerEvents = events.map((e) => {
    const known = TRIGGER_EVENTS.find((t) => t.toLowerCase() === e.toLowerCase());
    if (known === undefined) throw usage(`${where}: ${JSON.stringify(e)} is not a trigger event; use ${TRIGGER_EVENTS.join(', ')}`);
    return known as TriggerEventType;
  });
  return { triggerName: name, triggerTargetArn: target, triggerEvents: [...new Set(triggerEvents)] };
}

/** parseComputePlatform reads `--compute-platform` (case ignored): Server, Lambda or ECS. */
export function parseComputePlatform(text: string): ComputePlatform {
  const known = PLATFORMS.find((p) => p.toLowerCase() === text.trim().toLowerCase());
  if (known === undefined) throw usage(`--compute-platform ${JSON.stringify(text)}: use ${PLATFORMS.join(', ')}`);
  return known as ComputePlatform;
}

function usage(message: string): CliError {
  return new CliError(CliErrorCode.USAGE, message);
}
