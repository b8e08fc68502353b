import { describe, expect, it } from 'vitest';
import type { TargetRecord } from '../store/records.js';
import { blueGreenTarget, closeTarget, markCoordinatorEvent, phaseEndOf, phaseStatus } from './blue-green.js';
import { finishEvent, queueNextEvent } from './instance-lifecycle.js';
import type { EventOutcome } from './instance-lifecycle.js';

const ok: EventOutcome = { status: 'Succeeded', diagnostics: { errorCode: 'Succeeded', scriptName: '', message: '', logTail: '' } };
const bad: EventOutcome = { status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'check.sh', message: 'exit 1', logTail: '' } };

/** run runs a target's next events with `outcome`, phase by phase as the engine does for a blue/green deployment. */
function run(target: TargetRecord, count: number, outcome = ok): { target: TargetRecord; final?: string } {
  let t = target;
  let final: string | undefined;
  for (let i = 0; i < count; i++) {
    const q = queueNextEvent(t, i);
    if (q === undefined) break;
    const r = finishEvent(q.target, q.event, outcome, { ignoreApplicationStopFailures: false, stopping: false, now: i, phaseEnd: phaseEndOf(q.event) });
    t = r.target;
    final = r.final;
    if (final !== undefined) break;
  }
  return { target: t, ...(final === undefined ? {} : { final }) };
}

const statuses = (t: TargetRecord) => Object.fromEntries(t.lifecycleEvents.map((e) => [e.lifecycleEventName, e.status]));

describe('a blue/green instance, phase by phase', () => {
  it('a green instance stops Ready after ValidateService, with the traffic events still Pending', () => {
    const { target, final } = run(blueGreenTarget('d', 'g1', 'Green', 0), 20);
    expect(final).toBe('Succeeded'); // the install phase ended well
    expect(target.status).toBe('Ready');
    expect(target.label).toBe('Green');
    expect(statuses(target)).toMatchObject({ ValidateService: 'Succeeded', BeforeAllowTraffic: 'Pending', AllowTraffic: 'Pending', AfterAllowTraffic: 'Pending' });
  });

  it('BeforeAllowTraffic is a phase of its own; AfterAllowTraffic starts once AllowTraffic is recorded, and ends the instance', () => {
    let t = run(blueGreenTarget('d', 'g1', 'Green', 0), 20).target;
    t = run(t, 5).target;
    expect(t.status).toBe('InProgress');
    expect(statuses(t)).toMatchObject({ BeforeAllowTraffic: 'Succeeded', AllowTraffic: 'Pending' });
    const last = run(markCoordinatorEvent(t, 'AfterAllowTraffic', 9), 5);
    expect(last.final).toBe('Succeeded');
    expect(last.target.status).toBe('Succeeded');
    expect(statuses(last.target)).toMatchObject({ AllowTraffic: 'Succeeded', AfterAllowTraffic: 'Succeeded' });
  });

  it('a failure skips every later event, of all phases', () => {
    const { target, final } = run(blueGreenTarget('d', 'g1', 'Green', 0), 1, bad);
    expect(final).toBe('Failed');
    expect(target.status).toBe('Failed');
    expect(statuses(target).AfterAllowTraffic).toBe('Skipped');
  });

  it('markCoordinatorEvent records only the coordinator event before an agent event, once', () => {
    const blue = blueGreenTarget('d', 'b1', 'Blue', 0);
    expect(markCoordinatorEvent(blue, 'BeforeBlockTraffic', 5)).toBe(blue);
    const marked = markCoordinatorEvent(blue, 'AfterBlockTraffic', 5);
    expect(statuses(marked).BlockTraffic).toBe('Succeeded');
    expect(markCoordinatorEvent(marked, 'AfterBlockTraffic', 6)).toBe(marked);
  });
});

describe('phaseStatus', () => {
  const msg = (code: string) => `message for ${code}`;
  it('judges the install by its plan', () => {
    expect(phaseStatus('Install', undefined, [], msg)).toEqual({ status: 'InProgress' });
    expect(phaseStatus('Install', { status: 'Succeeded', minimumHealthy: 1, targets: [] }, [], msg)).toEqual({ status: 'Succeeded' });
    expect(phaseStatus('Install', { status: 'Failed', minimumHealthy: 1, targets: [], errorCode: 'HEALTH_CONSTRAINTS' }, [], msg)).toEqual({ status: 'Failed', failure: { status: 'Failed', code: 'HEALTH_CONSTRAINTS', message: 'message for HEALTH_CONSTRAINTS' } });
    expect(phaseStatus('Install', { status: 'Stopped', minimumHealthy: 1, targets: [], errorCode: 'MANUAL_STOP' }, [], msg)).toMatchObject({ failure: { status: 'Stopped', code: 'MANUAL_STOP' } });
  });

  it('judges any other event by its instances: running, all well, or failed naming the failed ones; instances already out do not count', () => {
    const installed = run(blueGreenTarget('d', 'g1', 'Green', 0), 20).target;
    const out = run(blueGreenTarget('d', 'g3', 'Green', 0), 1, bad).target;
    const queued = queueNextEvent(installed, 1)!.target;
    expect(phaseStatus('BeforeAllowTraffic', undefined, [queued, out], msg)).toEqual({ status: 'InProgress' });
    const passed = run(installed, 1).target;
    const failed = run({ ...installed, targetId: 'g2' }, 1, bad).target;
    expect(phaseStatus('BeforeAllowTraffic', undefined, [passed, out], msg)).toEqual({ status: 'Succeeded' });
    expect(phaseStatus('BeforeAllowTraffic', undefined, [passed, failed, out], msg)).toEqual({ status: 'Failed', failure: { status: 'Failed', code: 'HEALTH_CONSTRAINTS', message: 'BeforeAllowTraffic failed on 1 of 2 instance(s): g2 (ScriptFailed)' } });
    expect(phaseStatus('BeforeBlockTraffic', undefined, [], msg)).toEqual({ status: 'Succeeded' }); // no original instances
  });
});

describe('closeTarget', () => {
  it('skips what never ran; an instance cut short fails unless the deployment succeeded', () => {
    const installed = run(blueGreenTarget('d', 'g1', 'Green', 0), 20).target;
    expect(closeTarget(installed, false, 9)).toMatchObject({ status: 'Failed', lastUpdatedAt: 9 });
    expect(statuses(closeTarget(installed, false, 9)).AfterAllowTraffic).toBe('Skipped');
    const untouched = blueGreenTarget('d', 'b1', 'Blue', 0);
    expect(closeTarget(untouched, false, 9).status).toBe('Skipped');
    const done = run(markCoordinatorEvent(run(run(installed, 5).target, 0).target, 'AfterAllowTraffic', 1), 5).target;
    expect(closeTarget(done, true, 9)).toBe(done);
  });
});
