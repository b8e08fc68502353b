/**
 * What a watcher knows of one deployment, built from the coordinator's event stream (a snapshot,
 * then changes), and the lines worth printing as it changes. Pure: no I/O, no clock; both the
 * terminal and the plain renderer draw from it.
 */

import { StopEvents } from '@fleetdeploy/shared';
import type { InstanceSteps } from '../progress/lifecycle-steps.js';
import { countSteps, formatElapsed } from '../progress/lifecycle-steps.js';
import type { AgentWaitingMessage } from './agent-waiting.js';
import { agentWaitingLine, snapshotWaitingLines } from './agent-waiting.js';
import { groupByLabel, readyLine } from '../progress/blue-green-view.js';
import { splitText, weightBar } from '../progress/traffic-target.js';
/** FINAL_DEPLOYMENT_STATUSES end a deployment. */
export const FINAL_STATUSES: readonly string[] = ['Succeeded', 'Failed', 'Stopped'];

/** StreamMessage is one frame of the event stream, as far as the watcher reads it. */
export type StreamMessage =
  | {
      type: 'snapshot';
      deployment: {
        deploymentId: string;
        status: string;
        createTime?: number;
        completeTime?: number;
        errorInformation?: { code?: string; message?: string };
        ignoreApplicationStopFailures?: boolean;
        deploymentStatusMessages?: string[];
        /** Server, Lambda or ECS: a Lambda deployment shifts traffic and has no instances. */
        computePlatform?: string;
      };
      instances: Array<{
        targetId: string;
        status: string;
        /** A blue/green deployment's instances: Blue (the original) or Green (the replacement). */
        instanceLabel?: string;
        lifecycleEvents: Array<{ lifecycleEventName: string; status: string; startTime?: number; endTime?: number; diagnostics?: Diagnostics }>;
      }>;
    }
  | { type: 'deployment'; deploymentId: string; status: string; errorCode?: string; at: number }
  | { type: 'instance'; deploymentId: string; instanceName: string; status: string; at: number }
  | {
      type: 'lifecycleEvent';
      deploymentId: string;
      instanceName: string;
      lifecycleEvent: string;
      status: string;
      diagnostics?: Diagnostics;
      at: number;
    }
  | AgentWaitingMessage
  /** A traffic-shifted deployment's replacement has `weight` percent of the traffic now (0: rolled back); coordinators from before it never send it. */
  | { type: 'traffic'; deploymentId: string; weight: number; at: number }
  /** Guided failure: the deployment waits for an operator to retry, skip or fail the instance. */
  | { type: 'guidedFailure'; deploymentId: string; instanceName: string; lifecycleEvent: string; at: number };

/** Diagnostics is what the agent said of a failed lifecycle event. */
export interface Diagnostics {
  errorCode?: string;
  scriptName?: string;
  message?: string;
  logTail?: string;
}

/** EventProgress is one lifecycle event of one instance. */
export interface EventProgress {
  status: string;
  /** When it started (epoch ms), to say how long it took. */
  startedAt?: number;
}

/** InstanceProgress is one instance: its status and its lifecycle events in order. */
export interface InstanceProgress {
  readonly name: string;
  status: string;
  /** Blue or Green in a blue/green deployment. */
  label?: string;
  readonly events: Map<string, EventProgress>;
}

/** DeploymentProgress is the whole deployment as the watcher sees it. */
export interface DeploymentProgress {
  readonly deploymentId: string;
  status: string;
  /** Epoch ms. */
  createTime?: number;
  completeTime?: number;
  errorCode?: string;
  /** The deployment carries on past a failed ApplicationStop, BeforeBlockTraffic or AfterBlockTraffic. */
  ignoresStopFailures?: boolean;
  readonly instances: Map<string, InstanceProgress>;
  /** The replacement's share of the traffic as the last `traffic` message said. */
  weight?: number;
}

/** newProgress is an empty model of `deploymentId`, filled by the first snapshot. */
export function newProgress(deploymentId: string): DeploymentProgress {
  return { deploymentId, status: 'Unknown', instances: new Map() };
}

/** instanceSteps is where an instance stands, by the rule `status` uses too (progress/lifecycle-steps.ts). */
export function instanceSteps(p: DeploymentProgress, instance: InstanceProgress): InstanceSteps {
  const events = [...instance.events].map(([name, e]) => ({ name, status: e.status, ...(e.startedAt === undefined ? {} : { startedAt: e.startedAt }) }));
  return countSteps(events, p.ignoresStopFailures === true);
}

/** counts are the instances by outcome so far. */
export function counts(p: DeploymentProgress): { succeeded: number; failed: number; skipped: number; total: number } {
  const c = { succeeded: 0, failed: 0, skipped: 0, total: p.instances.size };
  for (const i of p.instances.values()) {
    if (i.status === 'Succeeded') c.succeeded++;
    else if (i.status === 'Failed') c.failed++;
    else if (i.status === 'Skipped') c.skipped++;
  }
  return c;
}

/**
 * sortedInstances lists instances by name, numbers in names compared as numbers (sim-2 before sim-10);
 * a blue/green deployment's replacement (Green) before its original (Blue).
 */
export function sortedInstances(p: DeploymentProgress): InstanceProgress[] {
  const side = (i: InstanceProgress): number => (i.label === 'Green' ? 0 : i.label === 'Blue' ? 1 : 2);
  return [...p.instances.values()].sort((a, b) => side(a) - side(b) || a.name.localeCompare(b.name, 'en', { numeric: true }));
}

/** trafficLine is a Server blue/green deployment's traffic after a `traffic` message: `traffic  █████░░…  75 % on blue, 25 % on green`. */
export function trafficLine(weight: number, width = 8): string {
  return `${'traffic'.padEnd(width)} ${weightBar(weight)}  ${splitText(weight, 'blue', 'green')}`;
}

/** Update is what one message changed: lines to print, and whether the instance set was (re)built. */
export interface Update {
  readonly lines: string[];
  readonly rebuilt: boolean;
  /** The lines report a failure (a terminal shows them in red). */
  readonly failure?: boolean;
}

/**
 * apply folds one message into the model and says what to print. A snapshot replaces what was known
 * (a reconnect resumes from it) and prints nothing but the deployment's status the first time; a
 * change that repeats what is known prints nothing. Lines look like
 * `sim-2  Install           Succeeded  0.4 s`, `sim-2  ValidateService   Failed  ScriptFailed: ...`
 * (`ApplicationStop   Failed (ignored)  ...` when ignoreApplicationStopFailures lets the instance go on),
 * `sim-2  instance Failed`, `deployment d-... InProgress`; a Server blue/green deployment's sides at
 * first (`replacement (green): sim-2, sim-4`) and its weights (`traffic  █████░░…  75 % on blue,
 * 25 % on green`; a Lambda or ECS target's weights are drawn by traffic-follow.ts instead).
 */
export function apply(p: DeploymentProgress, m: StreamMessage, width = 8): Update {
  const name = (n: string): string => n.padEnd(width);
  switch (m.type) {
    case 'snapshot': {
      const first = p.status === 'Unknown';
      const lines: string[] = [];
      if (first || p.status !== m.deployment.status) lines.push(deploymentLine(p.deploymentId, m.deployment.status));
      if (first) lines.push(...snapshotWaitingLines(m.deployment.deploymentStatusMessages), ...(m.deployment.deploymentStatusMessages ?? []).filter((t) => t.startsWith('guided failure:')));
      // a blue/green deployment: say once which instances are on which side; the lines name instances only
      const groups = first ? groupByLabel(m.instances, (t) => t.instanceLabel) : undefined;
      for (const g of groups ?? []) lines.push(`${g.heading}: ${g.members.map((t) => t.targetId).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(', ')}`);
      p.status = m.deployment.status;
      if (m.deployment.createTime !== undefined) p.createTime = m.deployment.createTime * 1000;
      if (m.deployment.completeTime !== undefined) p.completeTime = m.deployment.completeTime * 1000;
      if (m.deployment.errorInformation?.code !== undefined) p.errorCode = m.deployment.errorInformation.code;
      p.ignoresStopFailures = m.deployment.ignoreApplicationStopFailures === true;
      // A failure that happened before the watch joined (a fast deployment ends before its watch's
      // first snapshot) or while it was reconnecting still gets its line: a watch never hides one.
      let unignored = false;
      for (const t of m.instances) {
        for (const e of t.lifecycleEvents) {
          if (e.status !== 'Failed' || p.instances.get(t.targetId)?.events.get(e.lifecycleEventName)?.status === 'Failed') continue;
          const failed = failedLines(p, t.targetId, e.lifecycleEventName, e.diagnostics, width);
          lines.push(...failed.lines);
          unignored ||= !failed.ignored;
        }
      }
      p.instances.clear();
      for (const t of m.instances) {
        const events = new Map<string, EventProgress>();
        for (const e of t.lifecycleEvents) events.set(e.lifecycleEventName, { status: e.status, ...(e.startTime === undefined ? {} : { startedAt: e.startTime * 1000 }) });
        p.instances.set(t.targetId, { name: t.targetId, status: t.status, events, ...(t.instanceLabel === undefined ? {} : { label: t.instanceLabel }) });
      }
      return { lines, rebuilt: true, ...(unignored ? { failure: true } : {}) };
    }
    case 'deployment': {
      if (m.deploymentId !== p.deploymentId || p.status === m.status) return { lines: [], rebuilt: false };
      p.status = m.status;
      if (m.errorCode !== undefined) p.errorCode = m.errorCode;
      if (FINAL_STATUSES.includes(m.status)) p.completeTime = m.at;
      return { lines: [`${deploymentLine(p.deploymentId, m.status)}${m.errorCode ? ` (${m.errorCode})` : ''}`], rebuilt: false, ...(m.status === 'Failed' || m.status === 'Stopped' ? { failure: true } : {}) };
    }
    case 'instance': {
      if (m.deploymentId !== p.deploymentId) return { lines: [], rebuilt: false };
      let instance = p.instances.get(m.instanceName);
      const rebuilt = instance === undefined;
      if (instance === undefined) {
        instance = { name: m.instanceName, status: 'Pending', events: new Map() };
        p.instances.set(m.instanceName, instance);
      }
      if (instance.status === m.status) return { lines: [], rebuilt };
      // A failed instance that runs again is a guided failure's retry.
      const retried = instance.status === 'Failed' && (m.status === 'InProgress' || m.status === 'Pending');
      instance.status = m.status;
      if (retried) return { lines: [`${name(m.instanceName)} instance retried: its lifecycle runs again from the start`], rebuilt };
      const say = m.status === 'Succeeded' || m.status === 'Failed' || m.status === 'Skipped' || m.status === 'Ready';
      return { lines: say ? [`${name(m.instanceName)} instance ${m.status}`] : [], rebuilt, ...(m.status === 'Failed' ? { failure: true } : {}) };
    }
    case 'lifecycleEvent': {
      if (m.deploymentId !== p.deploymentId) return { lines: [], rebuilt: false };
      const instance = p.instances.get(m.instanceName);
      if (instance === undefined) return { lines: [], rebuilt: false }; // not in the snapshot: a later snapshot will say
      const before = instance.events.get(m.lifecycleEvent);
      if (before?.status === m.status) return { lines: [], rebuilt: false };
      const after: EventProgress = { status: m.status, ...(before?.startedAt === undefined ? {} : { startedAt: before.startedAt }) };
      if (m.status === 'InProgress') after.startedAt = m.at;
      instance.events.set(m.lifecycleEvent, after);
      if (m.status === 'Succeeded') {
        const took = after.startedAt === undefined ? '' : `  ${formatElapsed(m.at - after.startedAt)}`;
        return { lines: [`${name(m.instanceName)} ${m.lifecycleEvent.padEnd(17)} Succeeded${took}`], rebuilt: false };
      }
      if (m.status === 'Failed') {
        const { lines, ignored } = failedLines(p, m.instanceName, m.lifecycleEvent, m.diagnostics, width);
        return { lines, rebuilt: false, ...(ignored ? {} : { failure: true }) };
      }
      return { lines: [], rebuilt: false };
    }
    case 'agentWaiting':
      return { lines: m.deploymentId === p.deploymentId ? [agentWaitingLine(m, name)] : [], rebuilt: false };
    case 'guidedFailure':
      return { lines: m.deploymentId === p.deploymentId ? [`${name(m.instanceName)} waiting for an operator (guided failure): fleetdeploy resolve ${m.deploymentId} ${m.instanceName} --retry|--skip|--fail`] : [], rebuilt: false };
    case 'traffic': {
      // a repeat (a restarted coordinator applies its recorded step again) says nothing
      if (m.deploymentId !== p.deploymentId || p.weight === m.weight) return { lines: [], rebuilt: false };
      p.weight = m.weight;
      return { lines: [trafficLine(m.weight, width)], rebuilt: false };
    }
    default:
      return { lines: [], rebuilt: false };
  }
}

/**
 * failedLines say that `event` failed on `instance`, why, and the last lines of its log; `ignored`
 * when ignoreApplicationStopFailures lets the instance go on (not a failure to show in red).
 */
function failedLines(p: DeploymentProgress, instance: string, event: string, d: Diagnostics | undefined, width: number): { lines: string[]; ignored: boolean } {
  const why = d === undefined ? '' : `  ${d.errorCode ?? 'Failed'}${d.scriptName ? ` ${d.scriptName}` : ''}: ${(d.message ?? '').split('\n')[0]}`;
  const tail = (d?.logTail ?? '').trimEnd().split('\n').filter((l) => l.trim() !== '').slice(-3).map((l) => `${''.padEnd(width)}   | ${l}`);
  const ignored = p.ignoresStopFailures === true && (StopEvents as readonly string[]).includes(event);
  return { lines: [`${instance.padEnd(width)} ${event.padEnd(17)} Failed${ignored ? ' (ignored)' : ''}${why}`, ...tail], ignored };
}

/** deploymentLine is the deployment's status line; in Ready it says how to go on. */
function deploymentLine(deploymentId: string, status: string): string {
  return `deployment ${deploymentId} ${status}${status === 'Ready' ? `: ${readyLine(deploymentId)}` : ''}`;
}

/**
 * summaryLine is the one line a watch ends with, e.g.
 * `Deployment d-ABCDEFGH1 Succeeded: 5 succeeded, 0 failed, 0 skipped in 12.3 s`; for a traffic-shifted
 * deployment `traffic` says where its traffic ended instead: `... Succeeded: fn:live: 100 % on version 2 in 6.1 s`.
 */
export function summaryLine(p: DeploymentProgress, extra?: string, traffic?: string): string {
  const c = counts(p);
  const took = p.createTime !== undefined && p.completeTime !== undefined ? ` in ${formatElapsed(p.completeTime - p.createTime)}` : '';
  const outcome = traffic ?? `${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped`;
  return `Deployment ${p.deploymentId} ${p.status}: ${outcome}${took}${extra ? ` (${extra})` : ''}`;
}
