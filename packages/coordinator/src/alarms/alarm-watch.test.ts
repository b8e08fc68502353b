/**
 * The alarm watch with a fake clock, records in a map and a scripted source: when it polls, whom it
 * calls back, what it logs, and when it stops polling.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { DeploymentGroupRecord, DeploymentRecord } from '../store/records.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { deploymentRecord } from '../testing/record-builders.js';
import type { AlarmReading, AlarmSource, AlarmState } from './alarm-source.js';
import type { AlarmStop } from './alarm-watch.js';
import { createAlarmWatch } from './alarm-watch.js';

const INTERVAL = 15_000;

function setup(alarmConfiguration: unknown = { enabled: true, ignorePollAlarmFailure: false, alarms: [{ name: 'cpu' }] }) {
  const deployments = new Map<string, DeploymentRecord>();
  const group = { deploymentGroupId: 'gid', extra: { alarmConfiguration } } as unknown as DeploymentGroupRecord;
  let answer: AlarmReading = { ok: true, states: new Map<string, AlarmState>([['cpu', 'OK']]) };
  const asked: string[][] = [];
  const source: AlarmSource = { name: 'CloudWatch', states: async (names) => (asked.push([...names]), answer) };
  const logs: { level: number; msg: string; detail?: string; deploymentId?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const clock = createFakeClock();
  const watch = createAlarmWatch({ store: { getDeployment: async (id) => deployments.get(id), getGroupById: async () => group }, source, clock, intervalMs: INTERVAL, log });
  const stops: { id: string; stop: AlarmStop }[] = [];
  return {
    watch, clock, asked, logs, stops,
    put: (d: DeploymentRecord) => void deployments.set(d.deploymentId, d),
    answer: (next: AlarmReading) => void (answer = next),
    states: (states: Record<string, AlarmState>) => void (answer = { ok: true, states: new Map(Object.entries(states)) }),
    onStop: (id: string) => (stop: AlarmStop) => void stops.push({ id, stop }),
    /** tick moves the clock one interval on and lets the poll it starts finish. */
    async tick(intervals = 1) {
      for (let i = 0; i < intervals; i++) {
        clock.advance(INTERVAL);
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}

describe('alarm watch', () => {
  it('polls a running deployment every interval and calls back once when an alarm fires, then polls no more', async () => {
    const w = setup();
    w.put(deploymentRecord({ deploymentId: 'd-1' }));
    w.watch.watch('d-1', w.onStop('d-1'));
    expect(w.asked).toHaveLength(0); // the first look was beforeStart's
    await w.tick(3);
    expect(w.asked).toEqual([['cpu'], ['cpu'], ['cpu']]);
    w.states({ cpu: 'ALARM' });
    await w.tick();
    expect(w.stops).toEqual([{ id: 'd-1', stop: { action: 'stop', code: 'ALARM_ACTIVE', message: 'Stopped by alarm monitoring: CloudWatch reports alarm cpu in the ALARM state' } }]);
    await w.tick(3);
    expect(w.asked).toHaveLength(4);
    expect(w.stops).toHaveLength(1);
    expect(w.logs.find((l) => l.msg === 'alarm monitoring stops the deployment')).toMatchObject({ deploymentId: 'd-1', detail: expect.stringContaining('cpu') });
  });

  it('stops polling a deployment once it has ended', async () => {
    const w = setup();
    w.put(deploymentRecord({ deploymentId: 'd-1' }));
    w.watch.watch('d-1', w.onStop('d-1'));
    await w.tick();
    w.put(deploymentRecord({ deploymentId: 'd-1', status: 'Succeeded' }));
    await w.tick(3);
    expect(w.asked).toHaveLength(1);
  });

  it('with ignorePollAlarmFailure, an unreadable source is logged once per deployment however many polls fail', async () => {
    const w = setup({ enabled: true, ignorePollAlarmFailure: true, alarms: [{ name: 'cpu' }] });
    w.answer({ ok: false, error: 'connect ECONNREFUSED 127.0.0.1:4566' });
    w.put(deploymentRecord({ deploymentId: 'd-1' }));
    w.put(deploymentRecord({ deploymentId: 'd-2' }));
    w.watch.watch('d-1', w.onStop('d-1'));
    w.watch.watch('d-2', w.onStop('d-2'));
    await w.tick(4);
    expect(w.asked).toHaveLength(8);
    expect(w.stops).toEqual([]);
    const warnings = w.logs.filter((l) => l.level === 40);
    expect(warnings.map((l) => l.deploymentId)).toEqual(['d-1', 'd-2']);
    expect(warnings[0]!.detail).toBe('The state of alarm cpu could not be read from CloudWatch (connect ECONNREFUSED 127.0.0.1:4566); the deployment continues because alarmConfiguration.ignorePollAlarmFailure is true');
  });

  it('without it, an unreadable source stops the deployment', async () => {
    const w = setup();
    w.answer({ ok: false, error: 'AccessDenied: not allowed' });
    w.put(deploymentRecord({ deploymentId: 'd-1' }));
    w.watch.watch('d-1', w.onStop('d-1'));
    await w.tick();
    expect(w.stops[0]?.stop.message).toContain('could not be read from CloudWatch (AccessDenied: not allowed)');
  });

  it('a source that rejects counts as unreadable instead of going unhandled', async () => {
    const w = setup();
    w.put(deploymentRecord({ deploymentId: 'd-1' }));
    const watch = createAlarmWatch({
      store: { getDeployment: async () => deploymentRecord({ deploymentId: 'd-1' }), getGroupById: async () => ({ extra: { alarmConfiguration: { enabled: true, alarms: [{ name: 'cpu' }] } } }) as unknown as DeploymentGroupRecord },
      source: { name: 'Broken', states: () => Promise.reject(new Error('bug in the source')) },
      clock: w.clock, intervalMs: INTERVAL, log: pino({ level: 'silent' }),
    });
    watch.watch('d-1', w.onStop('d-1'));
    await w.tick();
    expect(w.stops[0]?.stop.message).toBe('Stopped by alarm monitoring: the state of alarm cpu could not be read from Broken (bug in the source), and alarmConfiguration.ignorePollAlarmFailure is false');
  });

  it('beforeStart answers once the records are read when there is nothing to watch, and after one reading otherwise', async () => {
    const none = setup({ enabled: false, alarms: [{ name: 'cpu' }] });
    none.put(deploymentRecord({ deploymentId: 'd-1', status: 'Created' }));
    const answers: (AlarmStop | undefined)[] = [];
    none.watch.beforeStart('d-1', (stop) => void answers.push(stop));
    await new Promise((r) => setImmediate(r));
    expect(answers).toEqual([undefined]);
    expect(none.asked).toEqual([]);

    const w = setup();
    w.states({ cpu: 'ALARM' });
    w.put(deploymentRecord({ deploymentId: 'd-2', status: 'Created' }));
    w.put(deploymentRecord({ deploymentId: 'd-rollback', status: 'Created', creator: 'codeDeployRollback' }));
    const got: [string, AlarmStop | undefined][] = [];
    w.watch.beforeStart('d-2', (stop) => void got.push(['d-2', stop]));
    w.watch.beforeStart('d-rollback', (stop) => void got.push(['d-rollback', stop]));
    await new Promise((r) => setImmediate(r));
    // A rollback is never held back by the alarm it answers: it goes ahead without a reading.
    expect(got).toEqual([['d-rollback', undefined], ['d-2', { action: 'stop', code: 'ALARM_ACTIVE', message: 'Stopped by alarm monitoring: CloudWatch reports alarm cpu in the ALARM state' }]]);
    expect(w.asked).toEqual([['cpu']]);
  });

  it('after close, nothing polls and a reading still on its way calls nobody', async () => {
    const w = setup();
    w.states({ cpu: 'ALARM' });
    w.put(deploymentRecord({ deploymentId: 'd-1', status: 'Created' }));
    w.put(deploymentRecord({ deploymentId: 'd-2' }));
    const got: unknown[] = [];
    w.watch.beforeStart('d-1', (stop) => void got.push(stop));
    w.watch.watch('d-2', w.onStop('d-2'));
    w.watch.close();
    await w.tick(2);
    expect(got).toEqual([]);
    expect(w.stops).toEqual([]);
    expect(w.asked).toHaveLength(1); // beforeStart's reading had already gone out
  });
});
