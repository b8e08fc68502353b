/**
 * What a deployment's alarms mean for it: which alarms it watches, and, from one reading of their
 * states, whether it goes on, goes on with a warning, or stops. Pure; alarm-watch.ts does the polling.
 *
 *   reading ──source unreadable──▶ ignorePollAlarmFailure ? warn : stop
 *      │ ────any alarm in ALARM───▶ stop (ALARM_ACTIVE)          (checked before the two below)
 *      │ ────a name not found─────▶ ignorePollAlarmFailure ? warn : stop
 *      └ ────otherwise────────────▶ continue (OK and INSUFFICIENT_DATA never stop a deployment)
 *
 * Every stop carries ALARM_ACTIVE: it is the only alarm code in CodeDeploy's ErrorCode enum, so SDKs
 * and the console know it; the message tells an alarm that fired from alarms that could not be read.
 */
import type { AlarmReading } from './alarm-source.js';

/** AlarmConfiguration is CodeDeploy's shape, as a deployment group stores it. */
export interface AlarmConfiguration {
  enabled: boolean;
  ignorePollAlarmFailure: boolean;
  alarms: readonly { name: string }[];
}

/** AlarmVerdict is what one reading means for a deployment. */
export type AlarmVerdict =
  | { action: 'continue' }
  /** Go on, and tell the operator (once per deployment): the alarms could not all be read. */
  | { action: 'warn'; message: string }
  | { action: 'stop'; code: 'ALARM_ACTIVE'; message: string };

/**
 * watchedAlarms is the configuration a deployment is watched with, or undefined when it watches
 * none: the group's alarmConfiguration when enabled with at least one alarm. A rollback deployment
 * watches none: the alarm that stopped the deployment it undoes usually still fires (CloudWatch
 * needs whole evaluation periods to return to OK) and would stop the very rollback that fixes it.
 */
export function watchedAlarms(deployment: { creator: string }, groupAlarms: unknown): AlarmConfiguration | undefined {
  if (deployment.creator === 'codeDeployRollback') return undefined;
  const config = parseAlarmConfiguration(groupAlarms);
  return config !== undefined && config.enabled && config.alarms.length > 0 ? config : undefined;
}

/** parseAlarmConfiguration reads a stored alarmConfiguration, or undefined when it is not one. */
function parseAlarmConfiguration(value: unknown): AlarmConfiguration | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const alarms = Array.isArray(v.alarms) ? v.alarms.flatMap((a: unknown) => (typeof a === 'object' && a !== null && typeof (a as { name?: unknown }).name === 'string' ? [{ name: (a as { name: string }).name }] : [])) : [];
  return { enabled: v.enabled === true, ignorePollAlarmFailure: v.ignorePollAlarmFailure === true, alarms };
}

/**
 * judgeAlarms decides from one reading. Worked example: alarms [cpu, errors], CloudWatch answers
 * {cpu: OK} → errors is unknown to CloudWatch → with ignorePollAlarmFailure false the deployment
 * stops ("CloudWatch has no alarm named errors"); with true it warns and goes on. Had cpu been in
 * ALARM, it would stop for cpu whatever ignorePollAlarmFailure says.
 */
export function judgeAlarms(config: AlarmConfiguration, reading: AlarmReading, source: string): AlarmVerdict {
  const names = config.alarms.map((a) => a.name);
  const goOn = 'the deployment continues because alarmConfiguration.ignorePollAlarmFailure is true';
  const stopAnyway = 'alarmConfiguration.ignorePollAlarmFailure is false';
  if (!reading.ok) {
    const what = `the state of alarm${plural(names)} ${names.join(', ')} could not be read from ${source} (${reading.error})`;
    return config.ignorePollAlarmFailure ? { action: 'warn', message: `${capitalise(what)}; ${goOn}` } : stop(`${what}, and ${stopAnyway}`);
  }
  const firing = names.filter((n) => reading.states.get(n) === 'ALARM');
  if (firing.length > 0) return stop(`${source} reports alarm${plural(firing)} ${firing.join(', ')} in the ALARM state`);
  const missing = names.filter((n) => !reading.states.has(n));
  if (missing.length > 0) {
    const what = `${source} has no alarm named ${missing.join(', ')}`;
    return config.ignorePollAlarmFailure ? { action: 'warn', message: `${what}; ${goOn}` } : stop(`${what}, and ${stopAnyway}`);
  }
  return { action: 'continue' };
}

function stop(reason: string): AlarmVerdict {
  return { action: 'stop', code: 'ALARM_ACTIVE', message: `Stopped by alarm monitoring: ${reason}` };
}

function plural(names: readonly string[]): string {
  return names.length === 1 ? '' : 's';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
