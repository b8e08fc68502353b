/**
 * The watcher's lines for instances that wait for an offline agent: the coordinator's `agentWaiting`
 * change as it happens, and the deployment's status messages in the first snapshot (a late watcher).
 * Pure, like progress.ts, which calls in here.
 *
 *   web-01   ApplicationStop   Pending: waiting for the agent of web-01 (offline since 2026-12-06T23:50:01Z)
 *   waiting for the agent of web-02 (never connected) to start ApplicationStop
 */

/** AgentWaitingMessage is the event stream's `agentWaiting` change (times in epoch ms). */
export interface AgentWaitingMessage {
  type: 'agentWaiting';
  deploymentId: string;
  instanceName: string;
  lifecycleEvent: string;
  /** Whether the agent had started the event before it went away. */
  started: boolean;
  /** When the agent went offline; absent when it never connected. */
  offlineSince?: number;
  at: number;
}

/** offlineText is `offline since 2026-12-06T23:50:01Z`, or `never connected`. */
export function offlineText(offlineSince: number | undefined): string {
  return offlineSince === undefined ? 'never connected' : `offline since ${new Date(offlineSince).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}

/** agentWaitingLine is the line for one `agentWaiting` change; `name` pads the instance name as the other lines do. */
export function agentWaitingLine(m: AgentWaitingMessage, name: (instance: string) => string): string {
  return `${name(m.instanceName)} ${m.lifecycleEvent.padEnd(17)} ${m.started ? 'InProgress' : 'Pending'}: waiting for the agent of ${m.instanceName} (${offlineText(m.offlineSince)})`;
}

/** snapshotWaitingLines are the status messages of a snapshot that say an instance waits for its agent. */
export function snapshotWaitingLines(messages: readonly string[] | undefined): string[] {
  return (messages ?? []).filter((m) => /^waiting for the agent of |^the agent of \S+ is not connected/.test(m));
}
