import { describe, expect, it } from 'vitest';
import { eventStarted, finishEvent, newTarget, queueNextEvent, skipTarget } from './instance-lifecycle.js';
import type { EventOutcome } from './instance-lifecycle.js';
import type { TargetRecord } from '../store/records.js';

const ok: EventOutcome = { status: 'Succeeded', diagnostics: { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail: '' } };
const failed: EventOutcome = { status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'stop.sh', message: 'exit 1', logTail: 'boom' } };
const opts = { ignoreApplicationStopFailures: false, stopping: false, now: 10 };

/** Runs events in order with the given outcomes until the instance is final. */
function run(outcomes: Record<string, EventOutcome>, o = opts): { target: TargetRecord; final?: string } {
  let target = newTarget('d-1', 'h1', 0);
  for (;;) {
    const queued = queueNextEvent(target, 1);
    if (!queued) return { target };
    const r = finishEvent(eventStarted(queued.target, queued.event, 2), queued.event, outcomes[queued.event] ?? ok, o);
    if (r.final) return r;
    target = r.target;
  }
}

describe('instance lifecycle', () => {
  it('runs the seven in-place events in order and succeeds', () => {
    const r = run({});
    expect(r.final).toBe('Succeeded');
    expect(r.target.lifecycleEvents.map((e) => [e.lifecycleEventName, e.status])).toEqual([
      ['ApplicationStop', 'Succeeded'], ['DownloadBundle', 'Succeeded'], ['BeforeInstall', 'Succeeded'], ['Install', 'Succeeded'],
      ['AfterInstall', 'Succeeded'], ['ApplicationStart', 'Succeeded'], ['ValidateService', 'Succeeded'],
    ]);
  });

  it('a failed event fails the instance and skips the rest, keeping the diagnostics (SC-09)', () => {
    const r = run({ BeforeInstall: failed });
    expect(r.final).toBe('Failed');
    expect(r.target.lifecycleEvents.map((e) => e.status)).toEqual(['Succeeded', 'Succeeded', 'Failed', 'Skipped', 'Skipped', 'Skipped', 'Skipped']);
    expect(r.target.lifecycleEvents[2]!.diagnostics).toEqual(failed.diagnostics);
  });

  it('ignoreApplicationStopFailures carries on past a failed ApplicationStop, recording it Failed', () => {
    const r = run({ ApplicationStop: failed }, { ...opts, ignoreApplicationStopFailures: true });
    expect(r.final).toBe('Succeeded');
    expect(r.target.lifecycleEvents[0]!.status).toBe('Failed');
    expect(run({ ApplicationStop: failed }).final).toBe('Failed');
    // but not past any other event
    expect(run({ AfterInstall: failed }, { ...opts, ignoreApplicationStopFailures: true }).final).toBe('Failed');
  });

  it('once the deployment is stopping, the running event is the last', () => {
    const started = queueNextEvent(newTarget('d-1', 'h1', 0), 1)!;
    const r = finishEvent(eventStarted(started.target, started.event, 2), started.event, ok, { ...opts, stopping: true });
    expect(r.final).toBe('Failed');
    expect(r.target.lifecycleEvents.filter((e) => e.status === 'Skipped')).toHaveLength(6);
  });

  it('ignores a result for an event that is not running (redelivery)', () => {
    const started = queueNextEvent(newTarget('d-1', 'h1', 0), 1)!;
    const once = finishEvent(eventStarted(started.target, started.event, 2), 'ApplicationStop', ok, opts);
    expect(finishEvent(once.target, 'ApplicationStop', failed, opts).target).toBe(once.target);
    expect(finishEvent(once.target, 'NoSuchEvent', failed, opts).target).toBe(once.target);
    expect(finishEvent(once.target, 'Install', failed, opts).target).toBe(once.target); // not the current event
  });

  it('a queued event stays Pending until the agent starts it, and is timed from then', () => {
    const queued = queueNextEvent(newTarget('d-1', 'h1', 0), 1)!;
    expect(queued.target.status).toBe('InProgress');
    expect(queued.target.lifecycleEvents[0]).toEqual({ lifecycleEventName: 'ApplicationStop', status: 'Pending' });
    const started = eventStarted(queued.target, 'ApplicationStop', 46_700);
    expect(started.lifecycleEvents[0]).toEqual({ lifecycleEventName: 'ApplicationStop', status: 'InProgress', startTime: 46_700 });
    expect(eventStarted(started, 'ApplicationStop', 50_000)).toBe(started); // a repeated ack changes nothing
    const done = finishEvent(started, 'ApplicationStop', ok, { ...opts, now: 47_100 });
    expect(done.target.lifecycleEvents[0]).toMatchObject({ status: 'Succeeded', startTime: 46_700, endTime: 47_100 });
  });

  it('an event that ends without having started (pick-up timeout) has no startTime', () => {
    const queued = queueNextEvent(newTarget('d-1', 'h1', 0), 1)!;
    const r = finishEvent(queued.target, 'ApplicationStop', failed, { ...opts, now: 300_001 });
    expect(r.final).toBe('Failed');
    expect(r.target.lifecycleEvents[0]).toEqual({ lifecycleEventName: 'ApplicationStop', status: 'Failed', endTime: 300_001, diagnostics: failed.diagnostics });
  });

  it('skipTarget marks every event Skipped', () => {
    expect(skipTarget(newTarget('d-1', 'h1', 0), 5)).toMatchObject({ status: 'Skipped', lastUpdatedAt: 5 });
  });
});
