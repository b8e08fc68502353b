import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PredefinedConfigs, findPredefinedConfig } from '@fleetdeploy/shared';
import type { TrafficRoutingConfig } from '@fleetdeploy/shared';
import type { TrafficAction, TrafficState } from './plan.js';
import { AGENTS, currentWeight, newTrafficState, nextTrafficAction, SERVER_HOOKS, trafficPlan } from './plan.js';

const MIN = 60_000;

/** timeline turns a plan into [minute, weight] pairs as a clock would see them. */
function timeline(routing: TrafficRoutingConfig): Array<[number, number]> {
  let at = 0;
  return trafficPlan(routing, MIN).map((s) => [(at += s.waitMs) / MIN, s.weight]);
}

/**
 * drive carries out the decisions with a fake clock as a driver would (hooks succeed at once, each
 * action takes effect at once) until the plan finishes, and returns every action with its time. With
 * `stopAt`, a stop is asked for when the action of that name comes up instead of taking it.
 */
function drive(start: TrafficState, stopAt?: string, continueAfterMs?: number): { actions: Array<{ at: number; name: string; action: TrafficAction }>; state: TrafficState } {
  let s = start;
  let now = 0;
  const actions: Array<{ at: number; name: string; action: TrafficAction }> = [];
  for (let guard = 0; guard < 100; guard++) {
    const a = nextTrafficAction(s, now, 3600);
    const name = a.type === 'invokeHook' ? a.event : a.type === 'prepare' ? a.stage : a.type === 'shift' ? `shift ${a.weight}` : a.type;
    actions.push({ at: now, name, action: a });
    if (name === stopAt && s.ending === undefined) {
      s = { ...s, ending: { status: 'Stopped', code: 'MANUAL_STOP', message: 'stopped' } };
      continue;
    }
    switch (a.type) {
      case 'check':
        s = { ...s, checked: true };
        break;
      case 'invokeHook':
        s = { ...s, executions: [...s.executions, { event: a.event, executionId: a.event, functionName: a.functionName, startedAt: now, deadlineAt: now + 3600_000, status: 'Succeeded', invoked: true }] };
        break;
      case 'prepare':
        s = { ...s, replacement: { ...s.replacement!, prepared: [...s.replacement!.prepared, a.stage] } };
        break;
      case 'shift':
        s = { ...s, step: { index: a.index, appliedAt: now } };
        break;
      case 'scheduleCleanup':
        s = { ...s, replacement: { ...s.replacement!, cleanup: { dueAt: a.dueAt } } };
        break;
      case 'cleanup':
        s = { ...s, replacement: { ...s.replacement!, cleanup: { ...s.replacement!.cleanup!, done: true } } };
        break;
      case 'ready':
        s = { ...s, server: { ...s.server!, ready: { since: now } } };
        break;
      case 'wait':
      case 'waitHook': {
        // With continueAfterMs, ContinueDeployment comes that long into a wait in Ready.
        const ready = s.server?.ready;
        if (continueAfterMs !== undefined && ready !== undefined && ready.continued !== true && a.until > ready.since + continueAfterMs) {
          now = ready.since + continueAfterMs;
          s = { ...s, server: { ...s.server!, ready: { ...ready, continued: true } } };
        } else now = a.until;
        break;
      }
      case 'rollback':
        s = { ...s, ending: s.ending ?? a.ending, rolledBack: true }; // as the driver records the decided ending first
        break;
      case 'finish':
        return { actions, state: s };
    }
  }
  throw new Error('the plan never finished');
}

/** run drives a Lambda deployment's plan (see {@link drive}) and returns each shift as [minute, weight]. */
function run(routing: TrafficRoutingConfig, hooks: TrafficState['hooks'] = {}): Array<[number, number]> {
  return drive(newTrafficState('d-1', trafficPlan(routing, MIN), hooks)).actions.flatMap(({ at, action }) => (action.type === 'shift' ? [[at / MIN, action.weight] as [number, number]] : []));
}

describe('trafficPlan', () => {
  it.each([
    ['CodeDeployDefault.LambdaAllAtOnce', [[0, 100]]],
    ['CodeDeployDefault.LambdaCanary10Percent5Minutes', [[0, 10], [5, 100]]],
    ['CodeDeployDefault.LambdaCanary10Percent10Minutes', [[0, 10], [10, 100]]],
    ['CodeDeployDefault.LambdaCanary10Percent15Minutes', [[0, 10], [15, 100]]],
    ['CodeDeployDefault.LambdaCanary10Percent30Minutes', [[0, 10], [30, 100]]],
    ['CodeDeployDefault.LambdaLinear10PercentEvery1Minute', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((m) => [m, (m + 1) * 10])],
    ['CodeDeployDefault.LambdaLinear10PercentEvery2Minutes', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => [2 * k, (k + 1) * 10])],
    ['CodeDeployDefault.LambdaLinear10PercentEvery3Minutes', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => [3 * k, (k + 1) * 10])],
    ['CodeDeployDefault.LambdaLinear10PercentEvery10Minutes', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => [10 * k, (k + 1) * 10])],
    ['CodeDeployDefault.ECSAllAtOnce', [[0, 100]]],
    ['CodeDeployDefault.ECSCanary10Percent5Minutes', [[0, 10], [5, 100]]],
    ['CodeDeployDefault.ECSCanary10Percent15Minutes', [[0, 10], [15, 100]]],
    ['CodeDeployDefault.ECSLinear10PercentEvery1Minutes', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((m) => [m, (m + 1) * 10])],
    ['CodeDeployDefault.ECSLinear10PercentEvery3Minutes', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => [3 * k, (k + 1) * 10])],
  ])('%s shifts as CodeDeploy does', (name, expected) => {
    const config = findPredefinedConfig(name);
    expect(config?.trafficRoutingConfig, name).toBeDefined();
    expect(timeline(config!.trafficRoutingConfig!)).toEqual(expected);
    expect(run(config!.trafficRoutingConfig!)).toEqual(expected);
  });

  it('covers every predefined Lambda and ECS configuration', () => {
    const traffic = PredefinedConfigs.filter((c) => c.computePlatform !== 'Server').map((c) => c.deploymentConfigName);
    expect(traffic).toHaveLength(14);
  });

  it('a linear step that does not divide 100 ends with a last step to 100 %', () => {
    expect(timeline({ type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 30, linearInterval: 2 } })).toEqual([[0, 30], [2, 60], [4, 90], [6, 100]]);
  });

  it('scales minutes for tests', () => {
    expect(trafficPlan({ type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 25, canaryInterval: 3 } }, 100)).toEqual([{ weight: 25, waitMs: 0 }, { weight: 100, waitMs: 300 }]);
  });
});

describe('nextTrafficAction', () => {
  const linear = trafficPlan({ type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 1 } }, MIN);
  const base = { ...newTrafficState('d-1', linear, { BeforeAllowTraffic: 'pre', AfterAllowTraffic: 'post' }), checked: true };
  const before = { event: 'BeforeAllowTraffic' as const, executionId: 'x1', functionName: 'pre', startedAt: 0, deadlineAt: 1000, status: 'Succeeded' as const, invoked: true };

  it('checks first, then invokes BeforeAllowTraffic before any traffic moves', () => {
    expect(nextTrafficAction(newTrafficState('d-1', linear, {}), 0, 3600)).toEqual({ type: 'check' });
    expect(nextTrafficAction(base, 0, 3600)).toEqual({ type: 'invokeHook', event: 'BeforeAllowTraffic', functionName: 'pre' });
  });

  it('waits for a hook until its deadline, then rolls back with HOOK_EXECUTION_FAILURE', () => {
    const waiting = { ...base, executions: [{ ...before, status: 'InProgress' as const }] };
    expect(nextTrafficAction(waiting, 999, 3600)).toEqual({ type: 'waitHook', until: 1000 });
    const late = nextTrafficAction(waiting, 1000, 3600);
    expect(late.type).toBe('rollback');
    expect(late.type === 'rollback' && late.ending.code).toBe('HOOK_EXECUTION_FAILURE');
  });

  it('an execution recorded but never invoked (a crash in between) is invoked again under the same id', () => {
    const lost = { ...base, executions: [{ ...before, status: 'InProgress' as const, invoked: false }] };
    expect(nextTrafficAction(lost, 10, 3600)).toEqual({ type: 'invokeHook', event: 'BeforeAllowTraffic', functionName: 'pre', executionId: 'x1' });
  });

  it('a Failed hook rolls back', () => {
    const a = nextTrafficAction({ ...base, executions: [{ ...before, status: 'Failed' }] }, 0, 3600);
    expect(a).toMatchObject({ type: 'rollback', ending: { status: 'Failed', code: 'HOOK_EXECUTION_FAILURE' } });
  });

  it('after a restart re-applies the recorded step, and the next is due one interval after it was applied', () => {
    const mid: TrafficState = { ...base, executions: [before], step: { index: 3 } };
    expect(nextTrafficAction(mid, 10 * MIN, 3600)).toEqual({ type: 'shift', index: 3, weight: 40 });
    expect(currentWeight(mid)).toBe(30); // step 3 recorded, not yet applied: the router still has step 2's weight
    expect(currentWeight({ ...mid, step: { index: 0 } })).toBe(0);
    const applied: TrafficState = { ...mid, step: { index: 3, appliedAt: 10 * MIN } };
    expect(currentWeight(applied)).toBe(40);
    // a coordinator down for 20 minutes still moves one step, one interval later
    expect(nextTrafficAction(applied, 10 * MIN + 1, 3600)).toEqual({ type: 'wait', until: 11 * MIN });
    expect(nextTrafficAction(applied, 30 * MIN, 3600)).toEqual({ type: 'shift', index: 4, weight: 50 });
  });

  it('runs AfterAllowTraffic after the last shift, then finishes', () => {
    const full: TrafficState = { ...base, executions: [before], step: { index: 9, appliedAt: 0 } };
    expect(nextTrafficAction(full, 0, 3600)).toEqual({ type: 'invokeHook', event: 'AfterAllowTraffic', functionName: 'post' });
    const done: TrafficState = { ...full, executions: [before, { ...before, event: 'AfterAllowTraffic', functionName: 'post' }] };
    expect(nextTrafficAction(done, 0, 3600)).toEqual({ type: 'finish' });
  });

  it('an ending rolls back first, then finishes with it', () => {
    const ending = { status: 'Stopped' as const, code: 'MANUAL_STOP', message: 'stopped' };
    expect(nextTrafficAction({ ...base, ending }, 0, 3600)).toEqual({ type: 'rollback', ending });
    expect(nextTrafficAction({ ...base, ending, rolledBack: true }, 0, 3600)).toEqual({ type: 'finish', ending });
    expect(currentWeight({ ...base, step: { index: 2, appliedAt: 0 }, rolledBack: true })).toBe(0);
  });
});

describe('nextTrafficAction, whatever the outages', () => {
  const routing = fc.oneof(
    fc.record({ p: fc.integer({ min: 1, max: 99 }), m: fc.integer({ min: 1, max: 30 }) }).map(({ p, m }): TrafficRoutingConfig => ({ type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: p, canaryInterval: m } })),
    fc.record({ p: fc.integer({ min: 1, max: 99 }), m: fc.integer({ min: 1, max: 10 }) }).map(({ p, m }): TrafficRoutingConfig => ({ type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: p, linearInterval: m } })),
    fc.constant<TrafficRoutingConfig>({ type: 'AllAtOnce' }),
  );

  it('weights only go up, one step at a time, each at least an interval after the last, and end at 100 %', () => {
    fc.assert(
      fc.property(routing, fc.array(fc.integer({ min: 0, max: 120 * MIN }), { maxLength: 30 }), fc.array(fc.boolean(), { maxLength: 30 }), (r, outages, crashes) => {
        const steps = trafficPlan(r, MIN);
        let s = { ...newTrafficState('d-1', steps, {}), checked: true };
        let now = 0;
        const applied: Array<{ index: number; at: number }> = [];
        for (let guard = 0; guard < 400; guard++) {
          const a = nextTrafficAction(s, now, 3600);
          if (a.type === 'finish') break;
          if (a.type === 'wait') {
            now = a.until + (outages[guard] ?? 0); // the coordinator may wake late
            continue;
          }
          expect(a.type).toBe('shift');
          if (a.type !== 'shift') return;
          s = { ...s, step: { index: a.index } };
          if (crashes[guard] === true) continue; // died before recording it applied: done again
          applied.push({ index: a.index, at: now });
          s = { ...s, step: { index: a.index, appliedAt: now } };
        }
        expect(applied.at(-1)?.index).toBe(steps.length - 1);
        for (let i = 1; i < applied.length; i++) {
          const step = applied[i]!.index - applied[i - 1]!.index;
          expect(step === 0 || step === 1).toBe(true);
          if (step === 1) expect(applied[i]!.at - applied[i - 1]!.at).toBeGreaterThanOrEqual(steps[applied[i]!.index]!.waitMs);
        }
      }),
    );
  });
});

describe('nextTrafficAction for an ECS deployment (a replacement)', () => {
  const ALL_HOOKS = { BeforeInstall: 'f1', AfterInstall: 'f2', AfterAllowTestTraffic: 'f3', BeforeAllowTraffic: 'f4', AfterAllowTraffic: 'f5' };

  /** steps drives an ECS state (see {@link drive}) and names each action as minute:action. */
  function steps(routing: TrafficRoutingConfig, terminationWaitMinutes: number, stopAt?: string): { log: string[]; state: TrafficState } {
    const { actions, state } = drive(newTrafficState('d-1', trafficPlan(routing, MIN), ALL_HOOKS, terminationWaitMinutes * MIN), stopAt);
    const log = actions.filter(({ action }) => action.type !== 'wait' && action.type !== 'scheduleCleanup').map(({ at, name }) => `${at / MIN}:${name}`);
    return { log, state };
  }

  it("runs CodeDeploy's ECS order: hooks around install and test traffic, the shifts, then the termination wait and cleanup", () => {
    const canary = findPredefinedConfig('CodeDeployDefault.ECSCanary10Percent5Minutes')!.trafficRoutingConfig!;
    expect(steps(canary, 3).log).toEqual([
      '0:check', '0:BeforeInstall', '0:install', '0:AfterInstall', '0:testTraffic', '0:AfterAllowTestTraffic', '0:BeforeAllowTraffic',
      '0:shift 10', '5:shift 100', '5:AfterAllowTraffic', '8:cleanup', '8:finish',
    ]);
  });

  it('with no termination wait the original is removed right after AfterAllowTraffic', () => {
    expect(steps({ type: 'AllAtOnce' }, 0).log.slice(-3)).toEqual(['0:AfterAllowTraffic', '0:cleanup', '0:finish']);
  });

  it('a stop during the termination wait rolls back instead of removing the original', () => {
    const { log, state } = steps({ type: 'AllAtOnce' }, 10, 'cleanup');
    expect(log.slice(-3)).toEqual(['10:cleanup', '10:rollback', '10:finish']);
    expect(state.replacement?.cleanup?.done).toBeUndefined();
    expect(currentWeight(state)).toBe(0);
  });

  it('a stop before the install rolls back without preparing anything', () => {
    const { log, state } = steps({ type: 'AllAtOnce' }, 0, 'install');
    expect(log).toEqual(['0:check', '0:BeforeInstall', '0:install', '0:rollback', '0:finish']);
    expect(state.replacement?.prepared).toEqual([]);
  });
});

describe('nextTrafficAction for a Server blue/green deployment (HAProxy)', () => {
  /** steps drives a Server state (see {@link drive}) and names each action as minute:action. */
  function steps(routing: TrafficRoutingConfig, server: { readyWaitMinutes?: number; terminateAfterMinutes?: number }, opts: { stopAt?: string; continueAfterMinutes?: number } = {}): { log: string[]; state: TrafficState } {
    const terminate = server.terminateAfterMinutes !== undefined;
    const start = newTrafficState('d-1', trafficPlan(routing, MIN), SERVER_HOOKS, (server.terminateAfterMinutes ?? 0) * MIN, {
      terminate,
      ...(server.readyWaitMinutes === undefined ? {} : { readyWaitMs: server.readyWaitMinutes * MIN }),
    });
    const { actions, state } = drive(start, opts.stopAt, opts.continueAfterMinutes === undefined ? undefined : opts.continueAfterMinutes * MIN);
    const log = actions.filter(({ action }) => action.type !== 'wait' && action.type !== 'scheduleCleanup').map(({ at, name }) => `${at / MIN}:${name}`);
    return { log, state };
  }
  const linear = { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 25, linearInterval: 1 } } as const;

  it('installs the replacement on its agents, allows traffic step by step, then blocks the original and keeps it (KEEP_ALIVE)', () => {
    expect(steps(linear, {}).log).toEqual([
      '0:check', '0:Install', '0:BeforeAllowTraffic', '0:shift 25', '1:shift 50', '2:shift 75', '3:shift 100',
      '3:AfterAllowTraffic', '3:BeforeBlockTraffic', '3:block', '3:AfterBlockTraffic', '3:finish',
    ]);
  });

  it('TERMINATE retires the original after the termination wait', () => {
    expect(steps({ type: 'AllAtOnce' }, { terminateAfterMinutes: 5 }).log.slice(-4)).toEqual(['0:block', '0:AfterBlockTraffic', '5:cleanup', '5:finish']);
  });

  it('STOP_DEPLOYMENT waits in Ready after the install; ContinueDeployment reroutes', () => {
    expect(steps({ type: 'AllAtOnce' }, { readyWaitMinutes: 60 }, { continueAfterMinutes: 7 }).log.slice(0, 5)).toEqual(['0:check', '0:Install', '0:ready', '7:BeforeAllowTraffic', '7:shift 100']);
  });

  it('STOP_DEPLOYMENT without ContinueDeployment stops at the end of the wait, with no traffic moved', () => {
    const { log, state } = steps({ type: 'AllAtOnce' }, { readyWaitMinutes: 30 });
    expect(log).toEqual(['0:check', '0:Install', '0:ready', '30:rollback', '30:finish']);
    expect(state.ending).toMatchObject({ status: 'Stopped', code: 'TIMEOUT' });
    expect(currentWeight(state)).toBe(0);
  });

  it('a failed run on the agents ends with its own code (e.g. HEALTH_CONSTRAINTS) and rolls back', () => {
    const installed = { ...newTrafficState('d-1', trafficPlan(linear, MIN), SERVER_HOOKS, 0, { terminate: false }), checked: true };
    const failure = { status: 'Failed' as const, code: 'HEALTH_CONSTRAINTS', message: 'BeforeAllowTraffic failed on web-2' };
    const s: TrafficState = { ...installed, executions: [{ event: 'Install', executionId: 'x', functionName: AGENTS, startedAt: 0, deadlineAt: 1, status: 'Failed', failure }] };
    expect(nextTrafficAction(s, 0, 3600)).toEqual({ type: 'rollback', ending: failure });
  });

  it('a phase on agents that outlasts its cap fails with TIMEOUT, naming the event', () => {
    const s: TrafficState = { ...newTrafficState('d-1', trafficPlan(linear, MIN), SERVER_HOOKS, 0, { terminate: false }), checked: true, executions: [{ event: 'Install', executionId: 'x', functionName: AGENTS, startedAt: 0, deadlineAt: 1000, status: 'InProgress', invoked: true }] };
    expect(nextTrafficAction(s, 1000, 3600)).toEqual({ type: 'rollback', ending: { status: 'Failed', code: 'TIMEOUT', message: "Install did not end on the deployment's instances within 1 s" } });
  });

  it('a stop after the original is drained rolls back (the router gives it its weights again)', () => {
    const { log, state } = steps({ type: 'AllAtOnce' }, {}, { stopAt: 'AfterBlockTraffic' });
    expect(log.slice(-3)).toEqual(['0:AfterBlockTraffic', '0:rollback', '0:finish']);
    expect(state.rolledBack).toBe(true);
  });
});
