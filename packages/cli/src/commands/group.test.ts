import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_ROLE_ARN, groupRequest } from './group.js';

describe('groupRequest', () => {
  it('sends only what was given, with the stand-in service role', () => {
    expect(groupRequest('web', { application: 'shop' })).toEqual({ applicationName: 'shop', deploymentGroupName: 'web', serviceRoleArn: DEFAULT_SERVICE_ROLE_ARN });
  });

  it('turns alarms into an enabled alarm configuration, keeping --ignore-alarm-poll-failure', () => {
    expect(groupRequest('web', { application: 'shop', alarm: ['cpu-high'], ignoreAlarmPollFailure: true }).alarmConfiguration).toEqual({
      enabled: true,
      ignorePollAlarmFailure: true,
      alarms: [{ name: 'cpu-high' }],
    });
  });

  it('refuses a bad flag before any request is made', () => {
    expect(() => groupRequest('web', { application: 'shop', tag: ['role=web', ''] })).toThrow('--tag "": give KEY=VALUE');
  });
});
