/**
 * How `status` and `--watch` show a traffic-shifted (Lambda) deployment: its one target
 * `function:alias`, the hooks BeforeAllowTraffic / AllowTraffic / AfterAllowTraffic, and the weight
 * the target version has now, instead of the seven in-place lifecycle steps of an instance. Built
 * from the LambdaTarget that GetDeploymentTarget answers. Pure.
 */
import type { LambdaTarget } from '@aws-sdk/client-codedeploy';
import { formatElapsed } from './lifecycle-steps.js';

/** TrafficEvent is one of the target's lifecycle events. */
export interface TrafficEvent {
  readonly name: string;
  readonly status: string;
  /** Epoch ms. */
  readonly startedAt?: number;
  readonly endedAt?: number;
}

/** TrafficTarget is a Lambda deployment's target as the CLI shows it. */
export interface TrafficTarget {
  /** `function:alias`. */
  readonly targetId: string;
  readonly status: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
  /** The target version's share of the traffic, 0–100. */
  readonly weightPercent: number;
  readonly events: readonly TrafficEvent[];
}

/** trafficTarget reads the SDK's LambdaTarget. */
export function trafficTarget(t: LambdaTarget): TrafficTarget {
  const info = t.lambdaFunctionInfo ?? {};
  return {
    targetId: t.targetId ?? `${info.functionName ?? '?'}:${info.functionAlias ?? '?'}`,
    status: t.status ?? '?',
    currentVersion: info.currentVersion ?? '?',
    targetVersion: info.targetVersion ?? '?',
    // LambdaTarget gives the weight as a fraction (0.1); rounded so that 0.1 + 0.2 shows as 30 %.
    weightPercent: Math.round((info.targetVersionWeight ?? 0) * 1000) / 10,
    events: (t.lifecycleEvents ?? []).map((e) => ({
      name: e.lifecycleEventName ?? '?',
      status: e.status ?? '?',
      ...(e.startTime === undefined ? {} : { startedAt: e.startTime.getTime() }),
      ...(e.endTime === undefined ? {} : { endedAt: e.endTime.getTime() }),
    })),
  };
}

/** WEIGHT_BAR is the width of the weight bar in characters. */
const WEIGHT_BAR = 20;

/** weightBar draws the target version's share: `██░░░░░░░░░░░░░░░░░░`. */
export function weightBar(percent: number): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * WEIGHT_BAR);
  return '█'.repeat(filled) + '░'.repeat(WEIGHT_BAR - filled);
}

/** trafficText is where the traffic is: `90 % on version 1, 10 % on version 2`, or all on one. */
export function trafficText(t: TrafficTarget): string {
  if (t.weightPercent >= 100) return `100 % on version ${t.targetVersion}`;
  if (t.weightPercent <= 0) return `100 % on version ${t.currentVersion}`;
  return `${round(100 - t.weightPercent)} % on version ${t.currentVersion}, ${round(t.weightPercent)} % on version ${t.targetVersion}`;
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** eventLine is one lifecycle event: `BeforeAllowTraffic  Succeeded  0.4 s`, with the running time when `now` is given. */
function eventLine(e: TrafficEvent, now: number | undefined): string {
  let took = '';
  if (e.startedAt !== undefined && e.endedAt !== undefined) took = `  ${formatElapsed(e.endedAt - e.startedAt)}`;
  else if (e.startedAt !== undefined && e.status === 'InProgress' && now !== undefined) took = `  (running ${formatElapsed(now - e.startedAt)})`;
  return `${e.name.padEnd(19)} ${e.status}${took}`;
}

/**
 * describeTrafficTarget is the target in `status ID`:
 *   `  target: fn:live  Succeeded  version 1 → 2  ████████████████████  100 % on version 2`
 *   `    BeforeAllowTraffic  Succeeded  0.4 s` … one line per event.
 */
export function describeTrafficTarget(t: TrafficTarget, now: number): string[] {
  return [
    `  target: ${t.targetId}  ${t.status}  version ${t.currentVersion} → ${t.targetVersion}  ${weightBar(t.weightPercent)}  ${trafficText(t)}`,
    ...t.events.map((e) => `    ${eventLine(e, now)}`),
  ];
}

/**
 * trafficChanges are the lines a watcher prints when the target moves from `before` (undefined: first
 * seen) to `after`: each event whose status changed, and the traffic when the weight changed, e.g.
 *   `fn:live  BeforeAllowTraffic  Succeeded  0.4 s`
 *   `fn:live  traffic  ██░░░░░░░░░░░░░░░░░░  90 % on version 1, 10 % on version 2`
 */
export function trafficChanges(before: TrafficTarget | undefined, after: TrafficTarget): string[] {
  const lines: string[] = [];
  const name = after.targetId;
  if (before === undefined) lines.push(`${name}  version ${after.currentVersion} → ${after.targetVersion}; hooks ${after.events.map((e) => e.name).join(', ')}`);
  const weightLine = before === undefined || before.weightPercent !== after.weightPercent ? `${name}  ${'traffic'.padEnd(19)} ${weightBar(after.weightPercent)}  ${trafficText(after)}` : undefined;
  let weightShown = false;
  for (const e of after.events) {
    const old = before?.events.find((x) => x.name === e.name);
    const changed = !(old?.status === e.status || (old === undefined && e.status === 'Pending'));
    // the weight moves while AllowTraffic runs: after it starts, before it ends
    const allowEnds = e.name === 'AllowTraffic' && e.status !== 'InProgress';
    if (weightLine !== undefined && !weightShown && allowEnds) {
      lines.push(weightLine);
      weightShown = true;
    }
    if (changed) lines.push(`${name}  ${eventLine(e, undefined)}`);
    if (weightLine !== undefined && !weightShown && e.name === 'AllowTraffic') {
      lines.push(weightLine);
      weightShown = true;
    }
  }
  if (weightLine !== undefined && !weightShown) lines.push(weightLine);
  return lines;
}

/** trafficSummary is the end of the watch's summary line: `fn:live: 100 % on version 2`. */
export function trafficSummary(t: TrafficTarget): string {
  return `${t.targetId}: ${trafficText(t)}`;
}
