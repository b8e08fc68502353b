import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';

describe('the alarm poll interval', () => {
  it('is 15 s by default, and read from alarm_poll_interval_seconds in the file or --alarm-poll-interval-seconds', () => {
    expect(resolveConfig(undefined, '', {}).alarmPollIntervalSeconds).toBe(15);
    expect(resolveConfig('alarm_poll_interval_seconds: 0.5\n', 'c.yml', {}).alarmPollIntervalSeconds).toBe(0.5);
    expect(resolveConfig('alarm_poll_interval_seconds: 30\n', 'c.yml', { alarmPollIntervalSeconds: '2' }).alarmPollIntervalSeconds).toBe(2);
  });

  it('refuses zero or text, naming the file and key or the flag', () => {
    expect(() => resolveConfig('alarm_poll_interval_seconds: 0\n', 'c.yml', {})).toThrow(/c\.yml: alarm_poll_interval_seconds: expected a positive number, got 0/);
    expect(() => resolveConfig(undefined, '', { alarmPollIntervalSeconds: 'often' })).toThrow(/--alarm-poll-interval-seconds: expected a positive number, got "often"/);
  });
});
