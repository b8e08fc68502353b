import { describe, expect, it } from 'vitest';
import { countSteps, formatElapsed } from './lifecycle-steps.js';

const EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'];
const events = (...statuses: string[]) => EVENTS.map((name, i) => ({ name, status: statuses[i] ?? 'Pending' }));

describe('countSteps', () => {
  it('a skipped instance has got nowhere: 0 of 7, whether its events say Skipped or Pending', () => {
    expect(countSteps(events(...Array<string>(7).fill('Skipped')), false)).toEqual({ done: 0, total: 7 });
    expect(countSteps(events(), false)).toEqual({ done: 0, total: 7 });
  });

  it('a failure in ValidateService is 6 of 7, not a full bar, and names the failed event', () => {
    expect(countSteps(events('Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Failed'), false)).toEqual({ done: 6, total: 7, failed: 'ValidateService', current: 'ValidateService' });
  });

  it('a failure in ApplicationStop with the rest skipped is 0 of 7', () => {
    expect(countSteps(events('Failed', 'Skipped', 'Skipped', 'Skipped', 'Skipped', 'Skipped', 'Skipped'), false)).toMatchObject({ done: 0, failed: 'ApplicationStop' });
  });

  it('an ignored ApplicationStop failure counts as passed, and the running event is the current one', () => {
    const steps = countSteps([{ name: 'ApplicationStop', status: 'Failed' }, { name: 'DownloadBundle', status: 'InProgress', startedAt: 5 }, { name: 'Install', status: 'Pending' }], true);
    expect(steps).toEqual({ done: 1, total: 3, running: { name: 'DownloadBundle', status: 'InProgress', startedAt: 5 }, ignoredFailure: 'ApplicationStop', current: 'DownloadBundle' });
  });

  const GREEN = [...EVENTS, 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];
  const BLUE = ['BeforeBlockTraffic', 'BlockTraffic', 'AfterBlockTraffic'];
  const run = (names: string[], ...statuses: string[]) => names.map((name, i) => ({ name, status: statuses[i] ?? 'Pending' }));

  it('a blue/green replacement counts its ten events: installed and waiting in Ready is 7 of 10, rerouted 10 of 10', () => {
    expect(countSteps(run(GREEN, ...Array<string>(7).fill('Succeeded')), false)).toEqual({ done: 7, total: 10, current: 'ValidateService' });
    expect(countSteps(run(GREEN, ...Array<string>(8).fill('Succeeded'), 'InProgress'), false)).toMatchObject({ done: 8, total: 10, current: 'AllowTraffic' });
    expect(countSteps(run(GREEN, ...Array<string>(10).fill('Succeeded')), false)).toEqual({ done: 10, total: 10, current: 'AfterAllowTraffic' });
    // failed in BeforeAllowTraffic, the rest skipped when the deployment ended: 7 of 10
    expect(countSteps(run(GREEN, ...Array<string>(7).fill('Succeeded'), 'Failed', 'Skipped', 'Skipped'), false)).toMatchObject({ done: 7, failed: 'BeforeAllowTraffic' });
  });

  it('an original instance counts its three block events; a BeforeBlockTraffic failure ignoreApplicationStopFailures forgives still counts', () => {
    expect(countSteps(run(BLUE, 'Succeeded', 'InProgress'), false)).toMatchObject({ done: 1, total: 3, current: 'BlockTraffic' });
    expect(countSteps(run(BLUE, 'Failed', 'Succeeded', 'Succeeded'), true)).toEqual({ done: 3, total: 3, ignoredFailure: 'BeforeBlockTraffic', current: 'AfterBlockTraffic' });
    expect(countSteps(run(BLUE, 'Failed', 'Skipped', 'Skipped'), false)).toMatchObject({ done: 0, total: 3, failed: 'BeforeBlockTraffic' });
  });

  it('formats elapsed time', () => {
    expect(formatElapsed(400)).toBe('0.4 s');
    expect(formatElapsed(125_000)).toBe('2 min 05 s');
  });
});
