import { describe, expect, it } from 'vitest';
import { describeOnFailure, onFailureMode, resolveAction, resolvedLine } from './resolve.js';

describe('resolve flags', () => {
  it('reads exactly one of --retry, --skip and --fail', () => {
    expect(resolveAction({ retry: true })).toBe('retry');
    expect(resolveAction({ skip: true })).toBe('skip');
    expect(resolveAction({ fail: true })).toBe('fail');
  });

  it.each([
    [{}, 'say what to do with the failed instance: --retry, --skip or --fail'],
    [{ retry: true, fail: true }, 'give one of --retry, --skip and --fail, not --retry and --fail'],
  ])('refuses %j with a usage error', (flags, message) => {
    expect(() => resolveAction(flags)).toThrow(message);
  });

  it('says what follows each answer', () => {
    expect(resolvedLine('d-1', 'web-1', 'retry')).toBe('Resolved d-1: web-1 runs its lifecycle again from the start (a new attempt; the other instances are left as they are); fleetdeploy status d-1 --watch follows it');
    expect(resolvedLine('d-1', 'web-1', 'skip')).toContain('web-1 is Skipped (still counted as unhealthy)');
    expect(resolvedLine('d-1', 'web-1', 'fail')).toContain('the deployment fails');
    // Answered by a replica that does not drive d-1: recorded for the one that does.
    expect(resolvedLine('d-1', 'web-1', 'skip', true)).toBe('Accepted for d-1: the replica driving it applies the answer in moments (web-1 is Skipped (still counted as unhealthy) and the deployment goes on); fleetdeploy status d-1 --watch follows it');
  });

  it('reads the group mode guided or fail', () => {
    expect(onFailureMode('guided')).toBe('guided');
    expect(() => onFailureMode('pause')).toThrow('the mode is guided or fail, got "pause"');
    expect(describeOnFailure('guided')).toContain('fleetdeploy resolve');
  });
});
