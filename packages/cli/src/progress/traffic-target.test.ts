import { describe, expect, it } from 'vitest';
import type { TrafficTarget } from './traffic-target.js';
import { describeTrafficTarget, trafficChanges, trafficTarget, trafficText, weightBar } from './traffic-target.js';

const target = (weightPercent: number, statuses: [string, string, string], extra: Partial<TrafficTarget> = {}): TrafficTarget => ({
  targetId: 'fn:live',
  status: 'InProgress',
  currentVersion: '1',
  targetVersion: '2',
  weightPercent,
  events: [
    { name: 'BeforeAllowTraffic', status: statuses[0] },
    { name: 'AllowTraffic', status: statuses[1] },
    { name: 'AfterAllowTraffic', status: statuses[2] },
  ],
  ...extra,
});

describe('trafficTarget', () => {
  it('reads a LambdaTarget, its weight as a percentage without float noise', () => {
    const t = trafficTarget({
      targetId: 'fn:live',
      status: 'InProgress',
      lifecycleEvents: [{ lifecycleEventName: 'BeforeAllowTraffic', status: 'Succeeded', startTime: new Date(1000), endTime: new Date(1400) }],
      lambdaFunctionInfo: { functionName: 'fn', functionAlias: 'live', currentVersion: '1', targetVersion: '2', targetVersionWeight: 0.1 + 0.2 },
    });
    expect(t).toEqual({ targetId: 'fn:live', status: 'InProgress', currentVersion: '1', targetVersion: '2', weightPercent: 30, events: [{ name: 'BeforeAllowTraffic', status: 'Succeeded', startedAt: 1000, endedAt: 1400 }] });
  });
});

describe('trafficText and weightBar', () => {
  it('say where the traffic is', () => {
    expect(trafficText(target(0, ['Pending', 'Pending', 'Pending']))).toBe('100 % on version 1');
    expect(trafficText(target(10, ['Succeeded', 'InProgress', 'Pending']))).toBe('90 % on version 1, 10 % on version 2');
    expect(trafficText(target(100, ['Succeeded', 'Succeeded', 'Pending']))).toBe('100 % on version 2');
    expect(weightBar(10)).toBe('██░░░░░░░░░░░░░░░░░░');
    expect(weightBar(150)).toBe('█'.repeat(20));
  });
});

describe('trafficChanges', () => {
  it('introduces the target the first time, then prints only what changed', () => {
    expect(trafficChanges(undefined, target(0, ['InProgress', 'Pending', 'Pending']))).toEqual([
      'fn:live  version 1 → 2; hooks BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic',
      'fn:live  BeforeAllowTraffic  InProgress',
      'fn:live  traffic             ░░░░░░░░░░░░░░░░░░░░  100 % on version 1',
    ]);
    expect(trafficChanges(target(10, ['Succeeded', 'InProgress', 'Pending']), target(10, ['Succeeded', 'InProgress', 'Pending']))).toEqual([]);
  });
  it('puts a weight after AllowTraffic starts and before it ends', () => {
    expect(trafficChanges(target(0, ['InProgress', 'Pending', 'Pending']), target(10, ['Succeeded', 'InProgress', 'Pending']))).toEqual([
      'fn:live  BeforeAllowTraffic  Succeeded',
      'fn:live  AllowTraffic        InProgress',
      'fn:live  traffic             ██░░░░░░░░░░░░░░░░░░  90 % on version 1, 10 % on version 2',
    ]);
    expect(trafficChanges(target(10, ['Succeeded', 'InProgress', 'Pending']), target(100, ['Succeeded', 'Succeeded', 'InProgress']))).toEqual([
      'fn:live  traffic             ████████████████████  100 % on version 2',
      'fn:live  AllowTraffic        Succeeded',
      'fn:live  AfterAllowTraffic   InProgress',
    ]);
  });
});

describe('describeTrafficTarget', () => {
  it('is the target line and one line per event, with how long each hook took or has been running', () => {
    const t = target(10, ['Succeeded', 'InProgress', 'Pending']);
    const withTimes: TrafficTarget = { ...t, events: [{ ...t.events[0]!, startedAt: 0, endedAt: 400 }, { ...t.events[1]!, startedAt: 500 }, t.events[2]!] };
    expect(describeTrafficTarget(withTimes, 2500)).toEqual([
      '  target: fn:live  InProgress  version 1 → 2  ██░░░░░░░░░░░░░░░░░░  90 % on version 1, 10 % on version 2',
      '    BeforeAllowTraffic  Succeeded  0.4 s',
      '    AllowTraffic        InProgress  (running 2.0 s)',
      '    AfterAllowTraffic   Pending',
    ]);
  });
});
