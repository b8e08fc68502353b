import { describe, expect, it } from 'vitest';
import type { AlarmReading, AlarmState } from './alarm-source.js';
import type { AlarmConfiguration } from './alarm-verdict.js';
import { judgeAlarms, watchedAlarms } from './alarm-verdict.js';

const config = (ignorePollAlarmFailure: boolean, ...names: string[]): AlarmConfiguration => ({ enabled: true, ignorePollAlarmFailure, alarms: names.map((name) => ({ name })) });
const read = (states: Record<string, AlarmState>): AlarmReading => ({ ok: true, states: new Map(Object.entries(states)) });
const unreadable: AlarmReading = { ok: false, error: 'connect ECONNREFUSED 127.0.0.1:4566' };

describe('judgeAlarms', () => {
  it.each([
    // ignorePollAlarmFailure, states, expected action
    [false, { cpu: 'OK', errors: 'OK' }, 'continue'],
    [false, { cpu: 'INSUFFICIENT_DATA', errors: 'OK' }, 'continue'],
    [false, { cpu: 'ALARM', errors: 'OK' }, 'stop'],
    [true, { cpu: 'ALARM', errors: 'OK' }, 'stop'], // ignorePollAlarmFailure is about reading, not about firing
    [false, { cpu: 'OK' }, 'stop'], // errors does not exist
    [true, { cpu: 'OK' }, 'warn'],
    [true, { cpu: 'ALARM' }, 'stop'], // a firing alarm wins over a missing one
  ] as const)('ignorePollAlarmFailure %s with %o → %s', (ignore, states, action) => {
    expect(judgeAlarms(config(ignore, 'cpu', 'errors'), read(states), 'CloudWatch').action).toBe(action);
  });

  it('names the firing alarms, and only those, in an ALARM_ACTIVE stop', () => {
    expect(judgeAlarms(config(false, 'cpu', 'errors', 'latency'), read({ cpu: 'ALARM', errors: 'OK', latency: 'ALARM' }), 'CloudWatch')).toEqual({
      action: 'stop',
      code: 'ALARM_ACTIVE',
      message: 'Stopped by alarm monitoring: CloudWatch reports alarms cpu, latency in the ALARM state',
    });
  });

  it('an unreadable source stops the deployment unless ignorePollAlarmFailure, and says why either way', () => {
    expect(judgeAlarms(config(false, 'cpu'), unreadable, 'CloudWatch')).toEqual({
      action: 'stop',
      code: 'ALARM_ACTIVE',
      message: 'Stopped by alarm monitoring: the state of alarm cpu could not be read from CloudWatch (connect ECONNREFUSED 127.0.0.1:4566), and alarmConfiguration.ignorePollAlarmFailure is false',
    });
    expect(judgeAlarms(config(true, 'cpu', 'errors'), unreadable, 'CloudWatch')).toEqual({
      action: 'warn',
      message: 'The state of alarms cpu, errors could not be read from CloudWatch (connect ECONNREFUSED 127.0.0.1:4566); the deployment continues because alarmConfiguration.ignorePollAlarmFailure is true',
    });
  });

  it('names the alarms the source does not know', () => {
    expect(judgeAlarms(config(false, 'cpu', 'typo'), read({ cpu: 'OK' }), 'CloudWatch')).toMatchObject({ action: 'stop', message: 'Stopped by alarm monitoring: CloudWatch has no alarm named typo, and alarmConfiguration.ignorePollAlarmFailure is false' });
    expect(judgeAlarms(config(true, 'cpu', 'typo'), read({ cpu: 'OK' }), 'CloudWatch')).toEqual({ action: 'warn', message: 'CloudWatch has no alarm named typo; the deployment continues because alarmConfiguration.ignorePollAlarmFailure is true' });
  });
});

describe('watchedAlarms', () => {
  const stored = { enabled: true, ignorePollAlarmFailure: true, alarms: [{ name: 'cpu' }] };

  it('is the group\'s configuration when it is enabled and names alarms', () => {
    expect(watchedAlarms({ creator: 'user' }, stored)).toEqual(stored);
    expect(watchedAlarms({ creator: 'autoscaling' }, stored)).toEqual(stored);
  });

  it('is nothing when disabled, empty, absent, or for a rollback deployment', () => {
    expect(watchedAlarms({ creator: 'user' }, { ...stored, enabled: false })).toBeUndefined();
    expect(watchedAlarms({ creator: 'user' }, { ...stored, alarms: [] })).toBeUndefined();
    expect(watchedAlarms({ creator: 'user' }, undefined)).toBeUndefined();
    expect(watchedAlarms({ creator: 'codeDeployRollback' }, stored)).toBeUndefined();
  });

  it('defaults ignorePollAlarmFailure to false, as CodeDeploy does', () => {
    expect(watchedAlarms({ creator: 'user' }, { enabled: true, alarms: [{ name: 'cpu' }] })?.ignorePollAlarmFailure).toBe(false);
  });
});
