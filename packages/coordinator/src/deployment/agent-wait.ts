/**
 * Saying which instances of a running deployment wait for an agent that is not connected, so that an
 * offline host is visible instead of looking like a slow hook. Pure: presence comes in as data.
 *
 *   instance InProgress, next event not started   waiting for the agent of web-01 (offline since 2026-12-06T23:50:01Z) to start ApplicationStop
 *   instance InProgress, event started            waiting for the agent of web-01 (offline since ...) to finish BeforeInstall
 *   instance Pending (its turn has not come)      the agent of web-02 is not connected (never connected); its events will wait for it
 *
 * These lines are the deployment's `deploymentStatusMessages` while it is active (GetDeployment,
 * `fleetdeploy status`, the event stream's snapshot); the engine publishes the same wait as an
 * `agentWaiting` event when it happens.
 */
import type { TargetRecord } from '../store/records.js';
import type { AgentSessionRecord } from '../fleet/agent-sessions.js';

/** AgentState is whether an instance's agent is connected, and if not since when (undefined: never seen). */
export type AgentState = { connected: true } | { connected: false; offlineSince?: number };

/** agentStateOf reads an instance's stored session: connected while it has not ended. */
export function agentStateOf(session: AgentSessionRecord | undefined): AgentState {
  if (session === undefined) return { connected: false };
  return session.disconnectedAt === undefined ? { connected: true } : { connected: false, offlineSince: session.disconnectedAt };
}

/** offlineText is `offline since 2026-12-06T23:50:01Z`, or `never connected`. */
export function offlineText(offlineSince: number | undefined): string {
  return offlineSince === undefined ? 'never connected' : `offline since ${new Date(offlineSince).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}

/** waitingMessage is the line for an instance whose `event` waits for its agent. */
export function waitingMessage(instanceName: string, event: string, started: boolean, offlineSince: number | undefined): string {
  return `waiting for the agent of ${instanceName} (${offlineText(offlineSince)}) to ${started ? 'finish' : 'start'} ${event}`;
}

/** waitingMessages lists, in target order, the instances still to deploy whose agent is not connected. */
export function waitingMessages(targets: readonly TargetRecord[], agentOf: (instanceName: string) => AgentState): string[] {
  const lines: string[] = [];
  for (const t of targets) {
    if (t.status !== 'InProgress' && t.status !== 'Pending') continue;
    const agent = agentOf(t.targetId);
    if (agent.connected) continue;
    const running = t.lifecycleEvents.find((e) => e.status === 'InProgress');
    const next = running ?? t.lifecycleEvents.find((e) => e.status === 'Pending');
    if (t.status === 'InProgress' && next !== undefined) lines.push(waitingMessage(t.targetId, next.lifecycleEventName, running !== undefined, agent.offlineSince));
    else if (t.status === 'Pending') lines.push(`the agent of ${t.targetId} is not connected (${offlineText(agent.offlineSince)}); its events will wait for it`);
  }
  return lines;
}
