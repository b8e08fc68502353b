import { describe, expect, it } from 'vitest';
import type { StreamMessage } from './progress.js';
import { apply, counts, instanceSteps, newProgress, sortedInstances, summaryLine } from './progress.js';

const EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'];
const snapshot = (status = 'InProgress'): StreamMessage => ({
  type: 'snapshot',
  deployment: { deploymentId: 'd-AAAAAAAAA', status, createTime: 1000 },
  instances: ['sim-1', 'sim-2'].map((targetId) => ({ targetId, status: 'Pending', lifecycleEvents: EVENTS.map((lifecycleEventName) => ({ lifecycleEventName, status: 'Pending' })) })),
});
const event = (instanceName: string, lifecycleEvent: string, status: string, at: number, diagnostics?: object): StreamMessage => ({
  type: 'lifecycleEvent',
  deploymentId: 'd-AAAAAAAAA',
  instanceName,
  lifecycleEvent,
  status,
  at,
  ...(diagnostics === undefined ? {} : { diagnostics }),
});

describe('apply', () => {
  it('builds the instances from the snapshot and counts finished events as steps', () => {
    const p = newProgress('d-AAAAAAAAA');
    expect(apply(p, snapshot())).toEqual({ lines: ['deployment d-AAAAAAAAA InProgress'], rebuilt: true });
    expect([...p.instances.keys()]).toEqual(['sim-1', 'sim-2']);
    expect(apply(p, event('sim-1', 'ApplicationStop', 'InProgress', 1_000_000)).lines).toEqual([]);
    expect(apply(p, event('sim-1', 'ApplicationStop', 'Succeeded', 1_000_400)).lines).toEqual(['sim-1    ApplicationStop   Succeeded  0.4 s']);
    expect(apply(p, event('sim-1', 'ApplicationStop', 'Succeeded', 1_000_500)).lines).toEqual([]); // a repeat says nothing
    apply(p, event('sim-1', 'DownloadBundle', 'InProgress', 1_000_500));
    const sim1 = p.instances.get('sim-1')!;
    expect(instanceSteps(p, sim1).done).toBe(1);
    expect(instanceSteps(p, sim1).current).toBe('DownloadBundle');
  });

  it('prints a failed event with its diagnostics and the last lines of its log', () => {
    const p = newProgress('d-AAAAAAAAA');
    apply(p, snapshot());
    const u = apply(p, event('sim-2', 'ValidateService', 'Failed', 5, { errorCode: 'ScriptFailed', scriptName: 'hooks/v.sh', message: 'exit 3\nmore', logTail: 'a\nb\n\nc\nd\n' }));
    expect(u.lines).toEqual(['sim-2    ValidateService   Failed  ScriptFailed hooks/v.sh: exit 3', '           | b', '           | c', '           | d']);
    expect(instanceSteps(p, p.instances.get('sim-2')!).current).toBe('ValidateService');
  });

  it('ignores other deployments and says each instance outcome and the deployment status once', () => {
    const p = newProgress('d-AAAAAAAAA');
    apply(p, snapshot());
    expect(apply(p, { type: 'instance', deploymentId: 'd-OTHER0000', instanceName: 'sim-1', status: 'Failed', at: 1 }).lines).toEqual([]);
    expect(apply(p, { type: 'instance', deploymentId: 'd-AAAAAAAAA', instanceName: 'sim-1', status: 'InProgress', at: 1 }).lines).toEqual([]);
    expect(apply(p, { type: 'instance', deploymentId: 'd-AAAAAAAAA', instanceName: 'sim-1', status: 'Succeeded', at: 2 }).lines).toEqual(['sim-1    instance Succeeded']);
    expect(apply(p, { type: 'instance', deploymentId: 'd-AAAAAAAAA', instanceName: 'sim-2', status: 'Skipped', at: 2 }).lines).toEqual(['sim-2    instance Skipped']);
    expect(apply(p, { type: 'deployment', deploymentId: 'd-AAAAAAAAA', status: 'Failed', errorCode: 'HEALTH_CONSTRAINTS', at: 1_012_300 }).lines).toEqual(['deployment d-AAAAAAAAA Failed (HEALTH_CONSTRAINTS)']);
    expect(counts(p)).toEqual({ succeeded: 1, failed: 0, skipped: 1, total: 2 });
    expect(summaryLine(p, 'too few healthy')).toBe('Deployment d-AAAAAAAAA Failed: 1 succeeded, 0 failed, 1 skipped in 12.3 s (too few healthy)');
  });

  it('with ignoreApplicationStopFailures, marks a failed ApplicationStop ignored and follows the instance on to its next event', () => {
    const p = newProgress('d-AAAAAAAAA');
    const s = snapshot();
    if (s.type === 'snapshot') s.deployment.ignoreApplicationStopFailures = true;
    apply(p, s);
    const failure = { errorCode: 'ScriptFailed', scriptName: 'stop.sh', message: 'exit 1' };
    expect(apply(p, event('sim-1', 'ApplicationStop', 'Failed', 5, failure)).lines).toEqual(['sim-1    ApplicationStop   Failed (ignored)  ScriptFailed stop.sh: exit 1']);
    apply(p, event('sim-1', 'DownloadBundle', 'InProgress', 6));
    expect(instanceSteps(p, p.instances.get('sim-1')!).current).toBe('DownloadBundle');
    // any other event's failure is not ignored
    expect(apply(p, event('sim-2', 'AfterInstall', 'Failed', 7, failure)).lines).toEqual(['sim-2    AfterInstall      Failed  ScriptFailed stop.sh: exit 1']);
  });

  it('counts steps by the rule status uses: a failure in ValidateService is not a full bar, a skipped instance is at 0', () => {
    const p = newProgress('d-AAAAAAAAA');
    apply(p, snapshot());
    EVENTS.slice(0, 6).forEach((e, i) => apply(p, event('sim-1', e, 'Succeeded', i)));
    const failed = apply(p, event('sim-1', 'ValidateService', 'Failed', 9, { errorCode: 'ScriptFailed', message: 'exit 1' }));
    expect(failed.failure).toBe(true); // a terminal shows it in red
    expect(instanceSteps(p, p.instances.get('sim-1')!)).toMatchObject({ done: 6, total: 7, failed: 'ValidateService' });
    expect(apply(p, { type: 'instance', deploymentId: 'd-AAAAAAAAA', instanceName: 'sim-2', status: 'Skipped', at: 10 }).failure).toBeUndefined();
    expect(instanceSteps(p, p.instances.get('sim-2')!).done).toBe(0);
  });

  it('a first snapshot that already holds a failure (the deployment outran its watch) prints it, once', () => {
    const p = newProgress('d-AAAAAAAAA');
    const s = snapshot();
    if (s.type !== 'snapshot') throw new Error('not a snapshot');
    s.deployment.ignoreApplicationStopFailures = true;
    s.instances[0]!.lifecycleEvents[0] = { lifecycleEventName: 'ApplicationStop', status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'stop.sh', message: 'exit 1', logTail: '[stderr]cannot stop\n' } };
    s.instances[1]!.lifecycleEvents[4] = { lifecycleEventName: 'AfterInstall', status: 'Failed' };
    const u = apply(p, s);
    expect(u.lines).toEqual(['deployment d-AAAAAAAAA InProgress', 'sim-1    ApplicationStop   Failed (ignored)  ScriptFailed stop.sh: exit 1', '           | [stderr]cannot stop', 'sim-2    AfterInstall      Failed']);
    expect(u.failure).toBe(true); // sim-2's failure is not ignored
    // an ignored failure alone, with its log tail, is not shown as a failure
    const alone = snapshot();
    if (alone.type !== 'snapshot') throw new Error('not a snapshot');
    alone.deployment.ignoreApplicationStopFailures = true;
    alone.instances[0]!.lifecycleEvents[0] = s.instances[0]!.lifecycleEvents[0]!;
    const quiet = apply(newProgress('d-AAAAAAAAA'), alone);
    expect(quiet.lines).toHaveLength(3);
    expect(quiet.failure).toBeUndefined();
    // a reconnect's snapshot repeats both: nothing new to say
    expect(apply(p, s).lines).toEqual([]);
    expect(apply(p, event('sim-1', 'ApplicationStop', 'Failed', 9)).lines).toEqual([]);
  });

  it('a later snapshot (after a reconnect) replaces what was known', () => {
    const p = newProgress('d-AAAAAAAAA');
    apply(p, snapshot());
    apply(p, event('sim-1', 'ApplicationStop', 'Succeeded', 1));
    expect(apply(p, snapshot('Succeeded')).lines).toEqual(['deployment d-AAAAAAAAA Succeeded']);
    expect(instanceSteps(p, p.instances.get('sim-1')!).done).toBe(0);
  });
});

describe('a Server blue/green deployment', () => {
  const GREEN = [...EVENTS, 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];
  const BLUE = ['BeforeBlockTraffic', 'BlockTraffic', 'AfterBlockTraffic'];
  const bgSnapshot = (status: string, greenStatus = 'Pending'): StreamMessage => ({
    type: 'snapshot',
    deployment: { deploymentId: 'd-AAAAAAAAA', status, createTime: 1000 },
    instances: [
      ...['sim-1', 'sim-3'].map((targetId) => ({ targetId, instanceLabel: 'Blue', status: 'Pending', lifecycleEvents: BLUE.map((lifecycleEventName) => ({ lifecycleEventName, status: 'Pending' })) })),
      ...['sim-4', 'sim-2'].map((targetId) => ({ targetId, instanceLabel: 'Green', status: greenStatus, lifecycleEvents: GREEN.map((lifecycleEventName, i) => ({ lifecycleEventName, status: greenStatus === 'Ready' && i < 7 ? 'Succeeded' : 'Pending' })) })),
    ],
  });
  const traffic = (weight: number, deploymentId = 'd-AAAAAAAAA'): StreamMessage => ({ type: 'traffic', deploymentId, weight, at: 5 });

  it('says which instances are the replacement and which the original, and lists the replacement first', () => {
    const p = newProgress('d-AAAAAAAAA');
    expect(apply(p, bgSnapshot('InProgress')).lines).toEqual(['deployment d-AAAAAAAAA InProgress', 'replacement (green): sim-2, sim-4', 'original (blue): sim-1, sim-3']);
    expect(sortedInstances(p).map((i) => `${i.name} ${i.label}`)).toEqual(['sim-2 Green', 'sim-4 Green', 'sim-1 Blue', 'sim-3 Blue']);
    expect(instanceSteps(p, p.instances.get('sim-2')!).total).toBe(10);
    expect(instanceSteps(p, p.instances.get('sim-1')!).total).toBe(3);
    // an in-place deployment has no such lines
    expect(apply(newProgress('d-AAAAAAAAA'), snapshot()).lines).toEqual(['deployment d-AAAAAAAAA InProgress']);
  });

  it('in Ready: each installed instance says so, and the deployment says how to continue, as a late watcher sees it too', () => {
    const p = newProgress('d-AAAAAAAAA');
    apply(p, bgSnapshot('InProgress'));
    expect(apply(p, { type: 'instance', deploymentId: 'd-AAAAAAAAA', instanceName: 'sim-2', status: 'Ready', at: 2 }).lines).toEqual(['sim-2    instance Ready']);
    const ready = 'deployment d-AAAAAAAAA Ready: the replacement is installed and has no traffic yet; reroute it now with: fleetdeploy continue d-AAAAAAAAA (or aws deploy continue-deployment --deployment-id d-AAAAAAAAA --deployment-wait-type READY_WAIT)';
    expect(apply(p, { type: 'deployment', deploymentId: 'd-AAAAAAAAA', status: 'Ready', at: 3 }).lines).toEqual([ready]);
    const late = newProgress('d-AAAAAAAAA');
    expect(apply(late, bgSnapshot('Ready', 'Ready')).lines[0]).toBe(ready);
    expect(instanceSteps(late, late.instances.get('sim-2')!)).toMatchObject({ done: 7, total: 10 });
  });

  it('prints every weight a traffic message tells, a repeat once, and the rollback to the original', () => {
    const p = newProgress('d-AAAAAAAAA');
    apply(p, bgSnapshot('InProgress'));
    const lines = [25, 50, 50, 75, 0].flatMap((w) => apply(p, traffic(w)).lines);
    expect(lines).toEqual([
      'traffic  █████░░░░░░░░░░░░░░░  75 % on blue, 25 % on green',
      'traffic  ██████████░░░░░░░░░░  50 % on blue, 50 % on green',
      'traffic  ███████████████░░░░░  25 % on blue, 75 % on green',
      'traffic  ░░░░░░░░░░░░░░░░░░░░  100 % on blue',
    ]);
    expect(apply(p, traffic(100, 'd-OTHER0001')).lines).toEqual([]);
  });
});
