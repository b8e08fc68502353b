import { describe, expect, it } from 'vitest';
import { newTarget } from './instance-lifecycle.js';
import type { TargetRecord } from '../store/records.js';
import type { AgentState } from './agent-wait.js';
import { waitingMessages } from './agent-wait.js';

const T = Date.UTC(2026, 11, 6, 23, 50, 1);

function withEvents(t: TargetRecord, status: TargetRecord['status'], first: 'Pending' | 'InProgress' | 'Succeeded'): TargetRecord {
  return { ...t, status, lifecycleEvents: t.lifecycleEvents.map((e, i) => (i === 0 ? { ...e, status: first } : e)) };
}

describe('waitingMessages', () => {
  const agents: Record<string, AgentState> = { 'web-01': { connected: false, offlineSince: T }, 'web-02': { connected: false }, 'web-03': { connected: true } };
  const agentOf = (name: string): AgentState => agents[name]!;

  it('names each instance to deploy whose agent is offline, with since when and which event waits', () => {
    const targets = [
      withEvents(newTarget('d-1', 'web-01', 0), 'InProgress', 'Pending'),
      newTarget('d-1', 'web-02', 0),
      withEvents(newTarget('d-1', 'web-03', 0), 'InProgress', 'Pending'),
    ];
    expect(waitingMessages(targets, agentOf)).toEqual([
      'waiting for the agent of web-01 (offline since 2026-12-06T23:50:01Z) to start ApplicationStop',
      'the agent of web-02 is not connected (never connected); its events will wait for it',
    ]);
  });

  it('says "finish" for an event the agent started before it went away, and nothing for finished instances', () => {
    const running = withEvents(newTarget('d-1', 'web-01', 0), 'InProgress', 'InProgress');
    const done = { ...withEvents(newTarget('d-1', 'web-02', 0), 'Succeeded', 'Succeeded') };
    expect(waitingMessages([running, done], agentOf)).toEqual(['waiting for the agent of web-01 (offline since 2026-12-06T23:50:01Z) to finish ApplicationStop']);
  });
});
