import { describe, expect, it } from 'vitest';
import { apply, newProgress } from './progress.js';

describe('a watched deployment held by guided failure', () => {
  it('says the deployment waits for an operator, and how to answer', () => {
    const p = newProgress('d-AAAAAAAAA');
    apply(p, { type: 'snapshot', deployment: { deploymentId: 'd-AAAAAAAAA', status: 'InProgress' }, instances: [] });
    const held = apply(p, { type: 'guidedFailure', deploymentId: 'd-AAAAAAAAA', instanceName: 'web-01', lifecycleEvent: 'Install', at: 0 });
    expect(held.lines).toEqual(['web-01   waiting for an operator (guided failure): fleetdeploy resolve d-AAAAAAAAA web-01 --retry|--skip|--fail']);
    expect(apply(p, { type: 'guidedFailure', deploymentId: 'd-OTHER0000', instanceName: 'web-01', lifecycleEvent: 'Install', at: 0 }).lines).toEqual([]);
  });

  it('says when the held instance is retried', () => {
    const p = newProgress('d-AAAAAAAAA');
    apply(p, { type: 'snapshot', deployment: { deploymentId: 'd-AAAAAAAAA', status: 'InProgress' }, instances: [{ targetId: 'web-01', status: 'Failed', lifecycleEvents: [] }] });
    expect(apply(p, { type: 'instance', deploymentId: 'd-AAAAAAAAA', instanceName: 'web-01', status: 'InProgress', at: 0 }).lines).toEqual(['web-01   instance retried: its lifecycle runs again from the start']);
    expect(apply(p, { type: 'instance', deploymentId: 'd-AAAAAAAAA', instanceName: 'web-01', status: 'Succeeded', at: 0 }).lines).toEqual(['web-01   instance Succeeded']);
  });

  it('a late watcher learns of the hold from the snapshot’s status messages', () => {
    const p = newProgress('d-AAAAAAAAA');
    const message = 'guided failure: web-01 failed in Install (ScriptFailed); waiting for an operator: fleetdeploy resolve d-AAAAAAAAA web-01 --retry|--skip|--fail';
    const first = apply(p, { type: 'snapshot', deployment: { deploymentId: 'd-AAAAAAAAA', status: 'InProgress', deploymentStatusMessages: [message, 'something else'] }, instances: [] });
    expect(first.lines).toEqual(['deployment d-AAAAAAAAA InProgress', message]);
  });
});
