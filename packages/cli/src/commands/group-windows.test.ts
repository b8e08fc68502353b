import { describe, expect, it } from 'vitest';
import { describePolicy, parseWindowFlag, windowsPolicy } from './group-windows.js';

describe('group windows flags', () => {
  it('reads --window as CRON; MINUTES[; TIME_ZONE]', () => {
    expect(parseWindowFlag('0 22 * * 1-5; 120; Europe/Paris')).toEqual({ cron: '0 22 * * 1-5', durationMinutes: 120, timeZone: 'Europe/Paris' });
    expect(parseWindowFlag('*/5 * * * *;1.5')).toEqual({ cron: '*/5 * * * *', durationMinutes: 1.5 });
  });

  it.each([
    ['0 22 * * 1-5', "--window takes 'CRON; MINUTES[; TIME_ZONE]'"],
    ['; 60', "--window takes 'CRON; MINUTES[; TIME_ZONE]'"],
    ['0 22 * * *; two hours', 'the duration must be a number of minutes above 0, got "two hours"'],
    ['0 22 * * *; 0', 'the duration must be a number of minutes above 0, got "0"'],
    ['0 22 * * *; 60; UTC; extra', "--window takes 'CRON; MINUTES[; TIME_ZONE]'"],
  ])('refuses --window %j with a usage error', (value, message) => {
    expect(() => parseWindowFlag(value)).toThrow(message);
  });

  it('needs at least one window and passes the modes through for the coordinator to check', () => {
    expect(() => windowsPolicy({ application: 'a' })).toThrow('give at least one --window');
    expect(windowsPolicy({ application: 'a', window: ['0 1 * * *; 30'], outsideWindow: 'refuse', windowClose: 'continue' })).toEqual({ windows: [{ cron: '0 1 * * *', durationMinutes: 30 }], outsideWindow: 'refuse', windowClose: 'continue' });
  });

  it('describes a policy in words', () => {
    expect(describePolicy({ windows: [{ cron: '0 1 * * *', durationMinutes: 30 }], outsideWindow: 'queue', windowClose: 'finish-running' })).toEqual([
      '  window: 0 1 * * *  for 30 min  (UTC)',
      '  outside a window: queue new deployments until one opens',
      '  when a window closes: running instances finish, no new one starts until the next window',
    ]);
  });
});
