import { describe, expect, it } from 'vitest';
import { apply, newProgress } from './progress.js';

const EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'];
const OFFLINE = Date.UTC(2026, 11, 6, 23, 50, 1);

describe('a watched deployment whose instance waits for an offline agent', () => {
  it('prints the wait as it happens, and times the event from when the agent started it', () => {
    const p = newProgress('d-AAAAAAAAA');
    apply(p, { type: 'snapshot', deployment: { deploymentId: 'd-AAAAAAAAA', status: 'InProgress' }, instances: [{ targetId: 'web-01', status: 'Pending', lifecycleEvents: EVENTS.map((lifecycleEventName) => ({ lifecycleEventName, status: 'Pending' })) }] });
    const waiting = apply(p, { type: 'agentWaiting', deploymentId: 'd-AAAAAAAAA', instanceName: 'web-01', lifecycleEvent: 'ApplicationStop', started: false, offlineSince: OFFLINE, at: OFFLINE + 5_000 });
    expect(waiting.lines).toEqual(['web-01   ApplicationStop   Pending: waiting for the agent of web-01 (offline since 2026-12-06T23:50:01Z)']);
    // The agent comes back 46.7 s later; the hook itself takes 0.4 s.
    apply(p, { type: 'lifecycleEvent', deploymentId: 'd-AAAAAAAAA', instanceName: 'web-01', lifecycleEvent: 'ApplicationStop', status: 'InProgress', at: OFFLINE + 46_700 });
    const done = apply(p, { type: 'lifecycleEvent', deploymentId: 'd-AAAAAAAAA', instanceName: 'web-01', lifecycleEvent: 'ApplicationStop', status: 'Succeeded', at: OFFLINE + 47_100 });
    expect(done.lines).toEqual(['web-01   ApplicationStop   Succeeded  0.4 s']);
    const never = apply(p, { type: 'agentWaiting', deploymentId: 'd-AAAAAAAAA', instanceName: 'web-01', lifecycleEvent: 'DownloadBundle', started: true, at: OFFLINE + 48_000 });
    expect(never.lines).toEqual(['web-01   DownloadBundle    InProgress: waiting for the agent of web-01 (never connected)']);
  });

  it('a late watcher learns of the wait from the snapshot’s status messages', () => {
    const p = newProgress('d-AAAAAAAAA');
    const messages = ['waiting for the agent of web-01 (offline since 2026-12-06T23:50:01Z) to start ApplicationStop', 'some other note'];
    const first = apply(p, { type: 'snapshot', deployment: { deploymentId: 'd-AAAAAAAAA', status: 'InProgress', deploymentStatusMessages: messages }, instances: [] });
    expect(first.lines).toEqual(['deployment d-AAAAAAAAA InProgress', 'waiting for the agent of web-01 (offline since 2026-12-06T23:50:01Z) to start ApplicationStop']);
  });
});
