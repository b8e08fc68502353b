import { describe, expect, it } from 'vitest';
import { healthConstraintsMessage, outcomeMessage } from './outcome-messages.js';

describe('outcomeMessage for HEALTH_CONSTRAINTS', () => {
  it('one host that failed: says where it failed, with no minimum-healthy arithmetic', () => {
    const message = outcomeMessage('HEALTH_CONSTRAINTS', { total: 1, minimumHealthy: 0, succeeded: 0, skipped: 0, failed: [{ name: 'web-01', event: 'ValidateService', errorCode: 'ScriptFailed' }] });
    expect(message).toBe("The deployment's only instance failed: web-01 failed in ValidateService (ScriptFailed)");
    expect(message).not.toMatch(/at least 0/);
  });

  it('every instance failed', () => {
    expect(healthConstraintsMessage({ total: 2, minimumHealthy: 0, succeeded: 0, skipped: 0, failed: [{ name: 'a', event: 'Install', errorCode: 'ScriptFailed' }, { name: 'b' }] })).toBe(
      'All 2 instances failed: a failed in Install (ScriptFailed), b failed',
    );
  });

  it('names the minimum-healthy rule when it stopped the deployment before every instance was tried', () => {
    expect(healthConstraintsMessage({ total: 4, minimumHealthy: 3, succeeded: 0, skipped: 3, failed: [{ name: 'h1', event: 'AfterInstall', errorCode: 'ScriptFailed' }] })).toBe(
      "h1 failed in AfterInstall (ScriptFailed); 3 instances were not deployed to, because with 1 failed the configuration's minimum of 3 healthy of 4 could no longer be kept",
    );
  });

  it('names the minimum when some succeeded but too few, and shortens a long list of failures', () => {
    const failed = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, event: 'Install' }));
    expect(healthConstraintsMessage({ total: 6, minimumHealthy: 2, succeeded: 1, skipped: 0, failed })).toBe(
      "5 of 6 instances failed (a failed in Install, b failed in Install, c failed in Install and 2 more); 1 ended healthy where the configuration's minimum is 2",
    );
  });
});
