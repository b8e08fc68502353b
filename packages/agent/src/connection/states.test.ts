import { describe, expect, it } from 'vitest';
import { allowedTransitions, ConnectionState, createConnectionStates } from './states.js';
import type { ConnectionStateName } from './states.js';

describe('connection states', () => {
  it('walks Idle → Connecting → Ready → Backoff → Connecting → Shutdown, reporting each change', () => {
    const seen: string[] = [];
    const s = createConnectionStates((from, to) => seen.push(`${from}>${to}`));
    expect(s.transition(['Idle'], 'Connecting')).toBe(true);
    expect(s.transition(['Connecting'], 'Ready')).toBe(true);
    expect(s.transition(['Ready', 'Connecting'], 'Backoff')).toBe(true);
    expect(s.transition(['Backoff'], 'Connecting')).toBe(true);
    expect(s.transition(['Idle', 'Connecting', 'Ready', 'Backoff'], 'Shutdown')).toBe(true);
    expect(seen).toEqual(['Idle>Connecting', 'Connecting>Ready', 'Ready>Backoff', 'Backoff>Connecting', 'Connecting>Shutdown']);
  });

  it('refuses a transition from a state the caller did not expect, and changes nothing', () => {
    const s = createConnectionStates();
    expect(s.transition(['Backoff'], 'Connecting')).toBe(false);
    expect(s.current()).toBe('Idle');
  });

  it('refuses a transition the table forbids even when the caller names the current state', () => {
    const s = createConnectionStates();
    expect(s.transition(['Idle'], 'Ready')).toBe(false);
    expect(s.current()).toBe('Idle');
  });

  it('keeps Shutdown terminal: a late timer cannot reconnect a stopped agent', () => {
    const s = createConnectionStates();
    s.transition(['Idle'], 'Shutdown');
    const all = Object.values(ConnectionState) as ConnectionStateName[];
    for (const to of all) expect(s.transition(all, to)).toBe(false);
    expect(allowedTransitions.Shutdown).toEqual([]);
  });
});
