import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minimumHealthyCount } from '@fleetdeploy/shared';
import type { MinimumHealthyHosts } from '@fleetdeploy/shared';
import { countTargets, onStop, onTargetResult, orderTargets, pauseFleet, resolveHeld, resumeFleet, startFleet, stopUnstarted } from './fleet-plan.js';
import type { FleetEffect, FleetPlan, FleetStep } from './fleet-plan.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${i + 1}`);

/**
 * Runs a deployment in which instances finish in start order with the given outcomes (true =
 * success), and returns the final plan and every effect, in order.
 */
function runInOrder(total: number, min: MinimumHealthyHosts, succeeds: (id: string) => boolean) {
  const effects: FleetEffect[] = [];
  let step: FleetStep = startFleet(ids(total), minimumHealthyCount(min, total));
  effects.push(...step.effects);
  const queue = step.effects.filter((e) => e.type === 'startTarget').map((e) => e.id);
  let maxInFlight = queue.length;
  while (queue.length > 0) {
    const id = queue.shift()!;
    step = onTargetResult(step.plan, id, succeeds(id) ? 'Succeeded' : 'Failed');
    effects.push(...step.effects);
    queue.push(...step.effects.filter((e) => e.type === 'startTarget').map((e) => e.id));
    maxInFlight = Math.max(maxInFlight, queue.length);
  }
  return { plan: step.plan, effects, maxInFlight };
}

const HOSTS = (value: number): MinimumHealthyHosts => ({ type: 'HOST_COUNT', value });
const PERCENT = (value: number): MinimumHealthyHosts => ({ type: 'FLEET_PERCENT', value });
const ONE_AT_A_TIME: MinimumHealthyHosts = { type: 'MOST_CONCURRENCY', value: 1 };

describe('fleet plan: the documented examples', () => {
  it('HOST_COUNT 9 of 10, instance 3 fails → Failed, instances 4–10 Skipped (SC-01)', () => {
    const { plan } = runInOrder(10, HOSTS(9), (id) => id !== 'i-3');
    expect(plan).toMatchObject({ status: 'Failed', errorCode: 'HEALTH_CONSTRAINTS' });
    expect(plan.targets.filter((t) => t.status === 'Skipped').map((t) => t.id)).toEqual(ids(10).slice(3));
  });

  it('HOST_COUNT 9 of 10, only instance 10 fails → Succeeded (SC-02)', () => {
    expect(runInOrder(10, HOSTS(9), (id) => id !== 'i-10').plan.status).toBe('Succeeded');
  });

  it('FLEET_PERCENT 95 of 10 fails before any instance is touched (SC-03)', () => {
    const step = startFleet(ids(10), minimumHealthyCount(PERCENT(95), 10));
    expect(step.plan).toMatchObject({ status: 'Failed', errorCode: 'HEALTH_CONSTRAINTS_INVALID' });
    expect(step.effects.some((e) => e.type === 'startTarget')).toBe(false);
  });

  it('HalfAtATime on 9 never has more than 4 in flight and needs 5 successes (SC-04)', () => {
    const half = PERCENT(50);
    expect(runInOrder(9, half, () => true).maxInFlight).toBe(4);
    expect(runInOrder(9, half, (id) => !['i-8', 'i-9'].includes(id)).plan.status).toBe('Succeeded');
    expect(runInOrder(9, half, (id) => !['i-1', 'i-2', 'i-3', 'i-4', 'i-5'].includes(id)).plan.status).toBe('Failed');
  });

  it('AllAtOnce on 9: one success is enough, none is a failure (SC-05)', () => {
    expect(runInOrder(9, HOSTS(0), (id) => id === 'i-5')).toMatchObject({ plan: { status: 'Succeeded' }, maxInFlight: 9 });
    expect(runInOrder(9, HOSTS(0), () => false).plan).toMatchObject({ status: 'Failed', errorCode: 'HEALTH_CONSTRAINTS' });
  });

  it('OneAtATime with one instance that fails → Failed (SC-06)', () => {
    expect(runInOrder(1, ONE_AT_A_TIME, () => false).plan.status).toBe('Failed');
  });

  it('OneAtATime: the last instance may fail, an earlier one may not', () => {
    expect(runInOrder(9, ONE_AT_A_TIME, (id) => id !== 'i-9')).toMatchObject({ plan: { status: 'Succeeded' }, maxInFlight: 1 });
    expect(runInOrder(9, ONE_AT_A_TIME, (id) => id !== 'i-8').plan.status).toBe('Failed');
  });

  it('HOST_COUNT 8 of 10: two failures fail it unless the second is the last instance', () => {
    expect(runInOrder(10, HOSTS(8), (id) => !['i-1', 'i-2'].includes(id)).plan.status).toBe('Failed');
    expect(runInOrder(10, HOSTS(8), (id) => !['i-1', 'i-10'].includes(id)).plan.status).toBe('Succeeded');
  });

  it('a deployment with no targets fails with NO_INSTANCES', () => {
    expect(startFleet([], 0).plan).toMatchObject({ status: 'Failed', errorCode: 'NO_INSTANCES' });
  });
});

describe('fleet plan: stop and redelivery', () => {
  it('a stop skips pending instances, cancels in-flight ones and ends Stopped once they report (RB-05)', () => {
    let step = startFleet(ids(6), 3);
    expect(step.effects.filter((e) => e.type === 'startTarget')).toHaveLength(3);
    step = onStop(step.plan);
    expect(step.effects).toEqual([
      { type: 'cancelTarget', id: 'i-1' }, { type: 'cancelTarget', id: 'i-2' }, { type: 'cancelTarget', id: 'i-3' },
      { type: 'skipTarget', id: 'i-4' }, { type: 'skipTarget', id: 'i-5' }, { type: 'skipTarget', id: 'i-6' },
    ]);
    expect(step.plan.status).toBe('InProgress');
    step = onTargetResult(step.plan, 'i-1', 'Succeeded');
    step = onTargetResult(step.plan, 'i-2', 'Failed');
    expect(step.effects).toEqual([]);
    step = onTargetResult(step.plan, 'i-3', 'Failed');
    expect(step.effects).toEqual([{ type: 'finish', status: 'Stopped', errorCode: 'MANUAL_STOP' }]);
    expect(onStop(step.plan).effects).toEqual([]);
  });

  it('an alarm stop winds down as a requested stop does and ends Stopped with ALARM_ACTIVE; a later request changes nothing', () => {
    let step = startFleet(ids(4), 3); // OneAtATime: i-1 in flight
    step = onStop(step.plan, 'ALARM_ACTIVE');
    expect(step.effects).toEqual([{ type: 'cancelTarget', id: 'i-1' }, { type: 'skipTarget', id: 'i-2' }, { type: 'skipTarget', id: 'i-3' }, { type: 'skipTarget', id: 'i-4' }]);
    expect(onStop(step.plan).effects).toEqual([]); // the first stop wins
    step = onTargetResult(step.plan, 'i-1', 'Failed');
    expect(step.effects).toEqual([{ type: 'finish', status: 'Stopped', errorCode: 'ALARM_ACTIVE' }]);
    expect(step.plan).toMatchObject({ status: 'Stopped', errorCode: 'ALARM_ACTIVE' });
  });

  it('stopUnstarted skips every instance and ends Stopped at once, even with no instances', () => {
    expect(stopUnstarted(ids(3), 2, 'ALARM_ACTIVE')).toEqual({
      plan: { status: 'Stopped', minimumHealthy: 2, targets: ids(3).map((id) => ({ id, status: 'Skipped' })), errorCode: 'ALARM_ACTIVE' },
      effects: [{ type: 'skipTarget', id: 'i-1' }, { type: 'skipTarget', id: 'i-2' }, { type: 'skipTarget', id: 'i-3' }, { type: 'finish', status: 'Stopped', errorCode: 'ALARM_ACTIVE' }],
    });
    expect(stopUnstarted([], 0, 'ALARM_ACTIVE').effects).toEqual([{ type: 'finish', status: 'Stopped', errorCode: 'ALARM_ACTIVE' }]);
  });

  it('ignores a result for an instance that is not in flight', () => {
    const step = startFleet(ids(3), 2);
    expect(onTargetResult(step.plan, 'i-3', 'Failed')).toEqual({ plan: step.plan, effects: [] });
    expect(onTargetResult(step.plan, 'nope', 'Failed').effects).toEqual([]);
  });
});

describe('orderTargets', () => {
  it('schedules unhealthy, then unknown, old and current revisions, keeping ties in order (SC-07)', () => {
    expect(orderTargets([
      { id: 'current', health: 'Healthy', revision: 'Current' },
      { id: 'old', health: 'Healthy', revision: 'Old' },
      { id: 'unknown', health: 'Healthy', revision: 'Unknown' },
      { id: 'unhealthy', health: 'Unhealthy', revision: 'Current' },
      { id: 'old-2', health: 'Healthy', revision: 'Old' },
    ])).toEqual(['unhealthy', 'unknown', 'old', 'old-2', 'current']);
  });
});

describe('fleet plan: properties over generated fleets and failure patterns', () => {
  const minimum = fc.oneof(
    fc.integer({ min: 0, max: 45 }).map(HOSTS),
    fc.integer({ min: 0, max: 99 }).map(PERCENT),
    fc.constant(ONE_AT_A_TIME),
  );

  it('keeps healthy hosts at or above the minimum, starts nothing after a stop, and ends every instance final', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        minimum,
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
        fc.option(fc.nat({ max: 60 }), { nil: undefined }),
        (total, min, outcomes, picks, stopAfter) => {
          const m = minimumHealthyCount(min, total);
          const budget = total - m;
          let step: FleetStep = startFleet(ids(total), m);
          const started = new Set<string>();
          const inFlight: string[] = [];
          const cancelled = new Set<string>();
          let stopped = false;
          let failedEarly = false;
          const apply = (s: FleetStep) => {
            for (const e of s.effects) {
              if (e.type === 'startTarget') {
                expect(stopped, 'no instance starts after a stop').toBe(false);
                expect(started.has(e.id), 'no instance starts twice').toBe(false);
                started.add(e.id);
                inFlight.push(e.id);
              }
              if (e.type === 'cancelTarget') cancelled.add(e.id);
            }
            if (s.plan.ending === 'failing') failedEarly = true;
            const c = countTargets(s.plan);
            if (s.plan.status === 'InProgress') expect(total - c.InProgress - c.Failed, 'healthy ≥ minimum').toBeGreaterThanOrEqual(Math.min(m, total));
            expect(c.InProgress + c.Failed).toBeLessThanOrEqual(Math.max(budget, 0));
          };
          apply(step);
          for (let k = 0; inFlight.length > 0; k++) {
            if (stopAfter === k) {
              stopped = true;
              step = onStop(step.plan);
              apply(step);
            }
            const [id] = inFlight.splice(picks[k % picks.length]! % inFlight.length, 1);
            const ok = outcomes[Number(id!.slice(2)) - 1]! && !cancelled.has(id!);
            step = onTargetResult(step.plan, id!, ok ? 'Succeeded' : 'Failed');
            apply(step);
          }
          const plan: FleetPlan = step.plan;
          expect(plan.status).not.toBe('InProgress');
          expect(plan.targets.every((t) => ['Succeeded', 'Failed', 'Skipped'].includes(t.status))).toBe(true);
          const c = countTargets(plan);
          if (stopped && plan.status !== 'Failed' && plan.status !== 'Succeeded') expect(plan.status).toBe('Stopped');
          if (plan.status === 'Succeeded') {
            expect(c.Succeeded).toBeGreaterThanOrEqual(Math.max(m, 1));
            expect(failedEarly || stopped).toBe(false);
          }
          if (!stopped && budget > 0 && !failedEarly) expect(plan.status).toBe(c.Succeeded >= Math.max(m, 1) ? 'Succeeded' : 'Failed');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('pauseFleet / resumeFleet (a deployment window closing and opening again)', () => {
  it('starts no instance while paused, lets in-flight ones finish, and starts the rest on resume', () => {
    let step = startFleet(ids(4), 2); // budget 2: i-1, i-2 start
    expect(step.effects).toEqual([{ type: 'startTarget', id: 'i-1' }, { type: 'startTarget', id: 'i-2' }]);
    step = pauseFleet(step.plan);
    expect(step.effects).toEqual([]);
    step = onTargetResult(step.plan, 'i-1', 'Succeeded');
    expect(step.effects).toEqual([]); // without the pause, i-3 would start here
    step = onTargetResult(step.plan, 'i-2', 'Succeeded');
    expect(step.effects).toEqual([]);
    expect(step.plan.status).toBe('InProgress');
    expect(countTargets(step.plan)).toMatchObject({ Pending: 2, Succeeded: 2 });
    step = resumeFleet(step.plan);
    expect(step.plan.paused).toBeUndefined();
    expect(step.effects).toEqual([{ type: 'startTarget', id: 'i-3' }, { type: 'startTarget', id: 'i-4' }]);
    step = onTargetResult(step.plan, 'i-3', 'Succeeded');
    step = onTargetResult(step.plan, 'i-4', 'Succeeded');
    expect(step.plan.status).toBe('Succeeded');
  });

  it('still ends a paused deployment that is stopped, skipping what had not started', () => {
    let step = pauseFleet(startFleet(ids(3), 1).plan);
    step = onStop(step.plan);
    step = onTargetResult(step.plan, 'i-1', 'Succeeded');
    step = onTargetResult(step.plan, 'i-2', 'Failed');
    expect(step.plan.status).toBe('Stopped');
    expect(step.plan.paused).toBeUndefined();
    expect(countTargets(step.plan)).toMatchObject({ Skipped: 1 });
  });

  it('changes nothing when paused twice, resumed unpaused, or finished', () => {
    const paused = pauseFleet(startFleet(ids(2), 0).plan).plan;
    expect(pauseFleet(paused)).toEqual({ plan: paused, effects: [] });
    const running = startFleet(ids(3), 2).plan;
    expect(resumeFleet(running)).toEqual({ plan: running, effects: [] });
    const failed = startFleet([], 0).plan;
    expect(pauseFleet(failed).plan).toBe(failed);
  });
});

describe('fleet plan: guided failure', () => {
  const started = (step: FleetStep) => step.effects.filter((e) => e.type === 'startTarget').map((e) => e.id);

  it('holds a failed instance: nothing starts and nothing ends until an operator decides', () => {
    let step = startFleet(ids(3), minimumHealthyCount(ONE_AT_A_TIME, 3));
    expect(started(step)).toEqual(['i-1']);
    step = onTargetResult(step.plan, 'i-1', 'Failed', { hold: true });
    expect(step.plan).toMatchObject({ status: 'InProgress', held: ['i-1'] });
    expect(step.plan.ending).toBeUndefined(); // unguided, OneAtATime would be failing now
    expect(step.effects).toEqual([]);
  });

  it('retry runs the held instance again and the deployment goes on to succeed', () => {
    let step = onTargetResult(startFleet(ids(3), 2).plan, 'i-1', 'Failed', { hold: true });
    const retry = resolveHeld(step.plan, 'i-1', 'retry')!;
    expect(retry.effects).toEqual([{ type: 'restartTarget', id: 'i-1' }]);
    expect(retry.plan.held).toBeUndefined();
    step = onTargetResult(retry.plan, 'i-1', 'Succeeded');
    expect(started(step)).toEqual(['i-2']);
    step = onTargetResult(step.plan, 'i-2', 'Succeeded');
    step = onTargetResult(step.plan, 'i-3', 'Succeeded');
    expect(step.plan.status).toBe('Succeeded');
  });

  it('retry never puts more instances in flight than the budget allows', () => {
    // HOST_COUNT 2 of 4: two may be out at once; i-1 held, i-2 still running
    let step = startFleet(ids(4), 2);
    expect(started(step)).toEqual(['i-1', 'i-2']);
    step = onTargetResult(step.plan, 'i-1', 'Failed', { hold: true });
    step = onTargetResult(step.plan, 'i-2', 'Succeeded');
    expect(started(step)).toEqual([]); // held: i-3 waits though the budget has room
    step = resolveHeld(step.plan, 'i-1', 'retry')!;
    expect(started(step)).toEqual(['i-3']);
    expect(countTargets(step.plan).InProgress).toBe(2);
  });

  it('skip marks the instance Skipped, keeps it unavailable for the budget, and goes on', () => {
    // HOST_COUNT 2 of 4: budget 2; with i-1 waived only one more may be out at a time
    let step = startFleet(ids(4), 2);
    step = onTargetResult(step.plan, 'i-1', 'Failed', { hold: true });
    step = resolveHeld(step.plan, 'i-1', 'skip')!;
    expect(step.effects).toEqual([{ type: 'waiveTarget', id: 'i-1' }]);
    expect(step.plan.targets[0]).toEqual({ id: 'i-1', status: 'Skipped' });
    step = onTargetResult(step.plan, 'i-2', 'Succeeded');
    expect(started(step)).toEqual(['i-3']);
    expect(countTargets(step.plan).InProgress).toBe(1);
    step = onTargetResult(step.plan, 'i-3', 'Succeeded');
    step = onTargetResult(step.plan, 'i-4', 'Succeeded');
    expect(step.plan.status).toBe('Succeeded');
  });

  it('skip under OneAtATime leaves no budget: the rest are skipped and the deployment fails', () => {
    let step = onTargetResult(startFleet(ids(3), 2).plan, 'i-1', 'Failed', { hold: true });
    step = resolveHeld(step.plan, 'i-1', 'skip')!;
    expect(step.plan).toMatchObject({ status: 'Failed', errorCode: 'HEALTH_CONSTRAINTS' });
  });

  it('fail ends the deployment Failed once the in-flight instances finish', () => {
    let step = startFleet(ids(4), 2);
    step = onTargetResult(step.plan, 'i-1', 'Failed', { hold: true });
    step = resolveHeld(step.plan, 'i-1', 'fail')!;
    expect(step.plan).toMatchObject({ status: 'InProgress', ending: 'failing', failedBy: 'operator' });
    expect(step.effects).toEqual([{ type: 'skipTarget', id: 'i-3' }, { type: 'skipTarget', id: 'i-4' }]);
    step = onTargetResult(step.plan, 'i-2', 'Succeeded');
    expect(step.plan).toMatchObject({ status: 'Failed', errorCode: 'HEALTH_CONSTRAINTS', failedBy: 'operator' });
  });

  it('a second failure while one is held is held too; a stop releases both as Failed', () => {
    let step = startFleet(ids(4), 2);
    step = onTargetResult(step.plan, 'i-1', 'Failed', { hold: true });
    step = onTargetResult(step.plan, 'i-2', 'Failed', { hold: true });
    expect(step.plan.held).toEqual(['i-1', 'i-2']);
    expect(resolveHeld(step.plan, 'i-3', 'retry')).toBeUndefined(); // not held
    step = onStop(step.plan);
    expect(step.plan).toMatchObject({ status: 'Stopped', errorCode: 'MANUAL_STOP' });
    expect(step.plan.held).toBeUndefined();
  });

  it('a failure is not held once the deployment is winding down', () => {
    let step = startFleet(ids(4), 2);
    step = onStop(step.plan);
    step = onTargetResult(step.plan, 'i-1', 'Failed', { hold: true });
    expect(step.plan.held).toBeUndefined();
  });
});

describe('fleet plan: guided failure over generated fleets, failures and decisions', () => {
  const minimum = fc.oneof(fc.integer({ min: 0, max: 25 }).map(HOSTS), fc.integer({ min: 0, max: 99 }).map(PERCENT), fc.constant(ONE_AT_A_TIME));

  it('never has more instances unavailable than the budget, starts nothing while one is held, and ends once every hold is answered', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        minimum,
        fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
        fc.array(fc.constantFrom('retry', 'skip', 'fail'), { minLength: 300, maxLength: 300 }),
        fc.array(fc.nat(), { minLength: 300, maxLength: 300 }),
        (total, min, outcomes, actions, picks) => {
          const m = minimumHealthyCount(min, total);
          const budget = Math.max(total - m, 0);
          let step: FleetStep = startFleet(ids(total), m);
          const inFlight: string[] = [];
          const check = (s: FleetStep) => {
            for (const e of s.effects) if (e.type === 'startTarget' || e.type === 'restartTarget') inFlight.push(e.id);
            if ((s.plan.held ?? []).length > 0) expect(s.effects.some((e) => e.type === 'startTarget'), 'nothing starts while held').toBe(false);
            const c = countTargets(s.plan);
            if (s.plan.status === 'InProgress') expect(c.InProgress + c.Failed + (s.plan.waived?.length ?? 0), 'unavailable ≤ budget').toBeLessThanOrEqual(budget);
          };
          check(step);
          for (let k = 0; k < 300 && step.plan.status === 'InProgress'; k++) {
            const held = step.plan.held ?? [];
            if (inFlight.length === 0 || (held.length > 0 && picks[k]! % 2 === 0)) {
              expect(held.length, 'a deployment with nothing in flight waits on a held instance').toBeGreaterThan(0);
              step = resolveHeld(step.plan, held[0]!, actions[k] as 'retry' | 'skip' | 'fail')!;
            } else {
              const [id] = inFlight.splice(picks[k]! % inFlight.length, 1);
              step = onTargetResult(step.plan, id!, outcomes[k] ? 'Succeeded' : 'Failed', { hold: true });
            }
            check(step);
          }
          if (step.plan.status !== 'InProgress') {
            expect(step.plan.held).toBeUndefined();
            const c = countTargets(step.plan);
            if (step.plan.status === 'Succeeded') expect(c.Succeeded).toBeGreaterThanOrEqual(Math.max(m, 1));
            expect(c.InProgress + c.Pending).toBe(0);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
