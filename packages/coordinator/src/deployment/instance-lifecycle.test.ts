import { describe, expect, it } from 'vitest';
import { finishEvent, newTarget, skipTarget, startNextEvent } from './instance-lifecycle.js';
import type { EventOutcome } from './instance-lifecycle.js';
import type { TargetRecord } from '../store/records.js';

const ok: EventOutcome = { status: 'Succeeded', diagnostics: { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail: '' } };
const failed: EventOutcome = { status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'stop.sh', message: 'exit 1', logTail: 'boom' } };
const opts = { ignoreApplicationStopFailures: false, stopping: false, now: 10 };

/** Runs events in order with the given outcomes until the instance is final. */
function run(outcomes: Record<string, EventOutcome>, o = opts): { target: TargetRecord; final?: string } {
  let target = newTarget('d-1', 'h1', 0);
  for (;;) {
    const started = startNextEvent(target, 1);
    if (!started) return { target };
    const r = finishEvent(started.target, started.event, outcomes[started.event] ?? ok, o);
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
    const started = startNextEvent(newTarget('d-1', 'h1', 0), 1)!;
    const r = finishEvent(started.target, started.event, ok, { ...opts, stopping: true });
    expect(r.final).toBe('Failed');
    expect(r.target.lifecycleEvents.filter((e) => e.status === 'Skipped')).toHaveLength(6);
  });

  it('ignores a result for an event that is not running (redelivery)', () => {
    const started = startNextEvent(newTarget('d-1', 'h1', 0), 1)!;
    const once = finishEvent(started.target, 'ApplicationStop', ok, opts);
    expect(finishEvent(once.target, 'ApplicationStop', failed, opts).target).toBe(once.target);
    expect(finishEvent(once.target, 'NoSuchEvent', failed, opts).target).toBe(once.target);
  });

  it('skipTarget marks every event Skipped', () => {
    expect(skipTarget(newTarget('d-1', 'h1', 0), 5)).toMatchObject({ status: 'Skipped', lastUpdatedAt: 5 });
  });
});
