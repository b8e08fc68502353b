/**
 * How `status` and `--watch` show a traffic-shifted deployment's one target: a Lambda alias
 * (`function:alias`, hooks BeforeAllowTraffic / AllowTraffic / AfterAllowTraffic, the weight of the
 * target version) or an ECS service (`cluster:service`, eight lifecycle events from BeforeInstall to
 * AfterAllowTraffic, the weights of its blue and green task sets), instead of the in-place lifecycle
 * steps of an instance. Built from the LambdaTarget or ECSTarget that GetDeploymentTarget answers. Pure.
 */
import type { ECSTarget, LambdaTarget, LifecycleEvent } from '@aws-sdk/client-codedeploy';
import { formatElapsed } from './lifecycle-steps.js';

/** TrafficEvent is one of the target's lifecycle events. */
export interface TrafficEvent {
  readonly name: string;
  readonly status: string;
  /** Epoch ms. */
  readonly startedAt?: number;
  readonly endedAt?: number;
}

/** TrafficTarget is a Lambda or ECS deployment's target as the CLI shows it. */
export interface TrafficTarget {
  /** `function:alias` or `cluster:service`. */
  readonly targetId: string;
  readonly status: string;
  /** What has the traffic before, and what gets it, as people name them: `version 1` and `version 2`, or `blue` and `green`. */
  readonly original: string;
  readonly replacement: string;
  /** The change in a few words: `version 1 → 2`, `task sets blue → green`. */
  readonly change: string;
  /** What its events are: `hooks` (Lambda), `events` (ECS, where the coordinator runs some of them). */
  readonly eventsNoun: string;
  /** The replacement's share of the traffic, 0–100. */
  readonly weightPercent: number;
  readonly events: readonly TrafficEvent[];
}

function eventsOf(events: readonly LifecycleEvent[] | undefined): TrafficEvent[] {
  return (events ?? []).map((e) => ({
    name: e.lifecycleEventName ?? '?',
    status: e.status ?? '?',
    ...(e.startTime === undefined ? {} : { startedAt: e.startTime.getTime() }),
    ...(e.endTime === undefined ? {} : { endedAt: e.endTime.getTime() }),
  }));
}

/** trafficTarget reads the SDK's LambdaTarget. */
export function trafficTarget(t: LambdaTarget): TrafficTarget {
  const info = t.lambdaFunctionInfo ?? {};
  const from = info.currentVersion ?? '?';
  const to = info.targetVersion ?? '?';
  return {
    targetId: t.targetId ?? `${info.functionName ?? '?'}:${info.functionAlias ?? '?'}`,
    status: t.status ?? '?',
    original: `version ${from}`,
    replacement: `version ${to}`,
    change: `version ${from} → ${to}`,
    eventsNoun: 'hooks',
    // LambdaTarget gives the weight as a fraction (0.1); rounded so that 0.1 + 0.2 shows as 30 %.
    weightPercent: Math.round((info.targetVersionWeight ?? 0) * 1000) / 10,
    events: eventsOf(t.lifecycleEvents),
  };
}

/**
 * ecsTrafficTarget reads the SDK's ECSTarget: the green (replacement) task set's trafficWeight is
 * the replacement's share (a percentage, as CodeDeploy gives it); without a green task set, what the
 * blue one does not carry.
 */
export function ecsTrafficTarget(t: ECSTarget): TrafficTarget {
  const sets = t.taskSetsInfo ?? [];
  const green = sets.find((s) => s.taskSetLabel === 'Green')?.trafficWeight;
  const blue = sets.find((s) => s.taskSetLabel === 'Blue')?.trafficWeight;
  const weight = green ?? (blue === undefined ? 0 : 100 - blue);
  return {
    targetId: t.targetId ?? '?',
    status: t.status ?? '?',
    original: 'blue',
    replacement: 'green',
    change: 'task sets blue → green',
    eventsNoun: 'events',
    weightPercent: Math.round(Math.max(0, Math.min(100, weight)) * 10) / 10,
    events: eventsOf(t.lifecycleEvents),
  };
}

/** WEIGHT_BAR is the width of the weight bar in characters. */
const WEIGHT_BAR = 20;

/** weightBar draws the target version's share: `██░░░░░░░░░░░░░░░░░░`. */
export function weightBar(percent: number): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * WEIGHT_BAR);
  return '█'.repeat(filled) + '░'.repeat(WEIGHT_BAR - filled);
}

/**
 * splitText is where the traffic is when `replacement` has `percent` of it: `90 % on version 1,
 * 10 % on version 2`, `75 % on blue, 25 % on green`, or all on one.
 */
export function splitText(percent: number, original: string, replacement: string): string {
  if (percent >= 100) return `100 % on ${replacement}`;
  if (percent <= 0) return `100 % on ${original}`;
  return `${round(100 - percent)} % on ${original}, ${round(percent)} % on ${replacement}`;
}

/** trafficText is where a target's traffic is (see splitText). */
export function trafficText(t: TrafficTarget): string {
  return splitText(t.weightPercent, t.original, t.replacement);
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** nameWidth is the event-name column of a target's lines: 19, or wider for ECS's AfterAllowTestTraffic. */
function nameWidth(t: TrafficTarget): number {
  return Math.max(19, ...t.events.map((e) => e.name.length + 1));
}

/** eventLine is one lifecycle event: `BeforeAllowTraffic  Succeeded  0.4 s`, with the running time when `now` is given. */
function eventLine(e: TrafficEvent, now: number | undefined, width: number): string {
  let took = '';
  if (e.startedAt !== undefined && e.endedAt !== undefined) took = `  ${formatElapsed(e.endedAt - e.startedAt)}`;
  else if (e.startedAt !== undefined && e.status === 'InProgress' && now !== undefined) took = `  (running ${formatElapsed(now - e.startedAt)})`;
  return `${e.name.padEnd(width)} ${e.status}${took}`;
}

/**
 * describeTrafficTarget is the target in `status ID`:
 *   `  target: fn:live  Succeeded  version 1 → 2  ████████████████████  100 % on version 2`
 *   `    BeforeAllowTraffic  Succeeded  0.4 s` … one line per event.
 */
export function describeTrafficTarget(t: TrafficTarget, now: number): string[] {
  return [
    `  target: ${t.targetId}  ${t.status}  ${t.change}  ${weightBar(t.weightPercent)}  ${trafficText(t)}`,
    ...t.events.map((e) => `    ${eventLine(e, now, nameWidth(t))}`),
  ];
}

/** weightLine is the watcher's line for a target's traffic: `fn:live  traffic  ██░░…  90 % on version 1, 10 % on version 2`. */
export function weightLine(t: TrafficTarget): string {
  return `${t.targetId}  ${'traffic'.padEnd(nameWidth(t))} ${weightBar(t.weightPercent)}  ${trafficText(t)}`;
}

/**
 * trafficChanges are the lines a watcher prints when the target moves from `before` (undefined: first
 * seen) to `after`: each event whose status changed, and the traffic when the weight changed, e.g.
 *   `fn:live  BeforeAllowTraffic  Succeeded  0.4 s`
 *   `fn:live  traffic             ██░░░░░░░░░░░░░░░░░░  90 % on version 1, 10 % on version 2`
 * With `weights` false a changed weight is left out (the coordinator's `traffic` messages tell each
 * one, and a target read may run ahead of them); the first look still says where the traffic is.
 */
export function trafficChanges(before: TrafficTarget | undefined, after: TrafficTarget, weights = true): string[] {
  const lines: string[] = [];
  const name = after.targetId;
  if (before === undefined) lines.push(`${name}  ${after.change}; ${after.eventsNoun} ${after.events.map((e) => e.name).join(', ')}`);
  const weight = before === undefined || (weights && before.weightPercent !== after.weightPercent) ? weightLine(after) : undefined;
  let weightShown = false;
  for (const e of after.events) {
    const old = before?.events.find((x) => x.name === e.name);
    const changed = !(old?.status === e.status || (old === undefined && e.status === 'Pending'));
    // the weight moves while AllowTraffic runs: after it starts, before it ends
    const allowEnds = e.name === 'AllowTraffic' && e.status !== 'InProgress';
    if (weight !== undefined && !weightShown && allowEnds) {
      lines.push(weight);
      weightShown = true;
    }
    if (changed) lines.push(`${name}  ${eventLine(e, undefined, nameWidth(after))}`);
    if (weight !== undefined && !weightShown && e.name === 'AllowTraffic') {
      lines.push(weight);
      weightShown = true;
    }
  }
  if (weight !== undefined && !weightShown) lines.push(weight);
  return lines;
}

/** trafficSummary is the end of the watch's summary line: `fn:live: 100 % on version 2`. */
export function trafficSummary(t: TrafficTarget): string {
  return `${t.targetId}: ${trafficText(t)}`;
}
