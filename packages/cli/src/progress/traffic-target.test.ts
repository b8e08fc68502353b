import { describe, expect, it } from 'vitest';
import type { TrafficTarget } from './traffic-target.js';
import type { ECSTarget, LifecycleEvent } from '@aws-sdk/client-codedeploy';
import { describeTrafficTarget, ecsTrafficTarget, splitText, trafficChanges, trafficTarget, trafficText, weightBar } from './traffic-target.js';

const target = (weightPercent: number, statuses: [string, string, string], extra: Partial<TrafficTarget> = {}): TrafficTarget => ({
  targetId: 'fn:live',
  status: 'InProgress',
  original: 'version 1',
  replacement: 'version 2',
  change: 'version 1 → 2',
  eventsNoun: 'hooks',
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
    expect(t).toEqual({ targetId: 'fn:live', status: 'InProgress', original: 'version 1', replacement: 'version 2', change: 'version 1 → 2', eventsNoun: 'hooks', weightPercent: 30, events: [{ name: 'BeforeAllowTraffic', status: 'Succeeded', startedAt: 1000, endedAt: 1400 }] });
  });
});

const ECS_EVENTS = ['BeforeInstall', 'Install', 'AfterInstall', 'AllowTestTraffic', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];
/** ecs is an ECSTarget as the coordinator answers it: the first `done` events Succeeded, the next InProgress, green at `green` %. */
const ecs = (done: number, green: number): ECSTarget => ({
  deploymentId: 'd-ECS000001',
  targetId: 'shop:web',
  status: 'InProgress',
  lifecycleEvents: ECS_EVENTS.map((lifecycleEventName, i): LifecycleEvent => ({ lifecycleEventName, status: i < done ? 'Succeeded' : i === done ? 'InProgress' : 'Pending' })),
  taskSetsInfo: [
    { taskSetLabel: 'Blue', trafficWeight: 100 - green },
    { taskSetLabel: 'Green', trafficWeight: green },
  ],
});

describe('ecsTrafficTarget', () => {
  it('reads an ECSTarget: the green task set\'s weight is the replacement\'s share, its eight events in order', () => {
    const t = ecsTrafficTarget(ecs(6, 25));
    expect(t).toMatchObject({ targetId: 'shop:web', status: 'InProgress', original: 'blue', replacement: 'green', weightPercent: 25 });
    expect(t.events.map((e) => e.name)).toEqual(ECS_EVENTS);
    expect(trafficText(t)).toBe('75 % on blue, 25 % on green');
  });

  it('takes what blue does not carry when there is no green task set yet, and nothing when neither is told', () => {
    expect(ecsTrafficTarget({ targetId: 'shop:web', taskSetsInfo: [{ taskSetLabel: 'Blue', trafficWeight: 100 }] }).weightPercent).toBe(0);
    expect(ecsTrafficTarget({ targetId: 'shop:web', taskSetsInfo: [{ taskSetLabel: 'Blue', trafficWeight: 40 }] }).weightPercent).toBe(60);
    expect(ecsTrafficTarget({ targetId: 'shop:web' }).weightPercent).toBe(0);
  });

  it('status shows the service, the split and each event; the watch introduces it and then prints what changed', () => {
    expect(describeTrafficTarget(ecsTrafficTarget(ecs(8, 100)), 0)[0]).toBe('  target: shop:web  InProgress  task sets blue → green  ████████████████████  100 % on green');
    expect(describeTrafficTarget(ecsTrafficTarget(ecs(6, 10)), 0).slice(1)).toEqual([
      '    BeforeInstall          Succeeded',
      '    Install                Succeeded',
      '    AfterInstall           Succeeded',
      '    AllowTestTraffic       Succeeded',
      '    AfterAllowTestTraffic  Succeeded',
      '    BeforeAllowTraffic     Succeeded',
      '    AllowTraffic           InProgress',
      '    AfterAllowTraffic      Pending',
    ]);
    expect(trafficChanges(undefined, ecsTrafficTarget(ecs(0, 0)))).toEqual([
      'shop:web  task sets blue → green; events BeforeInstall, Install, AfterInstall, AllowTestTraffic, AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic',
      'shop:web  BeforeInstall          InProgress',
      'shop:web  traffic                ░░░░░░░░░░░░░░░░░░░░  100 % on blue',
    ]);
    expect(trafficChanges(ecsTrafficTarget(ecs(1, 0)), ecsTrafficTarget(ecs(3, 0)))).toEqual(['shop:web  Install                Succeeded', 'shop:web  AfterInstall           Succeeded', 'shop:web  AllowTestTraffic       InProgress']);
  });
});

describe('trafficText and weightBar', () => {
  it('say where the traffic is', () => {
    expect(trafficText(target(0, ['Pending', 'Pending', 'Pending']))).toBe('100 % on version 1');
    expect(trafficText(target(10, ['Succeeded', 'InProgress', 'Pending']))).toBe('90 % on version 1, 10 % on version 2');
    expect(trafficText(target(100, ['Succeeded', 'Succeeded', 'Pending']))).toBe('100 % on version 2');
    expect(weightBar(10)).toBe('██░░░░░░░░░░░░░░░░░░');
    expect(weightBar(150)).toBe('█'.repeat(20));
    expect(splitText(25, 'blue', 'green')).toBe('75 % on blue, 25 % on green');
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
  it('leaves a changed weight out when the weights come as messages, but still says where the traffic is the first time', () => {
    expect(trafficChanges(target(10, ['Succeeded', 'InProgress', 'Pending']), target(30, ['Succeeded', 'InProgress', 'Pending']), false)).toEqual([]);
    expect(trafficChanges(undefined, target(30, ['Succeeded', 'InProgress', 'Pending']), false).at(-1)).toBe('fn:live  traffic             ██████░░░░░░░░░░░░░░  70 % on version 1, 30 % on version 2');
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
