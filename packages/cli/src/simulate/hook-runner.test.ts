import { describe, expect, it, vi } from 'vitest';
import { createHookRunner, hookOutcome, isHookInvocation, parseHookTable } from './hook-runner.js';
import type { RecordedInvoke } from './lambda-front.js';

const call = (functionName: string, extra: Partial<RecordedInvoke> = {}): RecordedInvoke => ({
  functionName,
  invocationType: 'Event',
  payload: { DeploymentId: 'd-AAAAAAAAA', LifecycleEventHookExecutionId: 'e-1' },
  at: 0,
  ...extra,
});

describe('hookOutcome', () => {
  it('reports Succeeded by default, Failed for a name ending in -fail, and the table wins over both', () => {
    expect(hookOutcome('preTraffic', {})).toBe('Succeeded');
    expect(hookOutcome('preTraffic-fail', {})).toBe('Failed');
    expect(hookOutcome('preTraffic-fail', { 'preTraffic-fail': 'Succeeded' })).toBe('Succeeded');
    expect(hookOutcome('slow', { slow: 'NoReport' })).toBe('NoReport');
    expect(hookOutcome('toString', {})).toBe('Succeeded'); // not an inherited property
  });
});

describe('isHookInvocation', () => {
  it('takes only asynchronous invocations that carry CodeDeploy\'s payload', () => {
    expect(isHookInvocation(call('f'))).toBe(true);
    expect(isHookInvocation(call('f', { invocationType: 'RequestResponse' }))).toBe(false);
    expect(isHookInvocation(call('f', { payload: {} }))).toBe(false);
  });
});

describe('parseHookTable', () => {
  it('reads a JSON object of outcomes', () => {
    expect(parseHookTable('{"a":"Failed","b":"NoReport","c":{"run":"true"}}', 'hooks.json')).toEqual({ a: 'Failed', b: 'NoReport', c: { run: 'true' } });
  });
  it.each([
    ['not json', /^--lambda-hooks: hooks.json is not JSON/],
    ['[1]', /^--lambda-hooks: hooks.json must be a JSON object mapping function names to Succeeded, Failed, NoReport or \{"run": "command"\}$/],
    ['{"a":"ok"}', /^--lambda-hooks: hooks.json: function "a" has "ok"; expected Succeeded, Failed, NoReport or \{"run": "command"\}$/],
    ['{"a":{"run":1}}', /^--lambda-hooks: hooks.json: function "a" has \{"run":1\}; expected/],
  ])('refuses %s with one line naming the file', (text, message) => {
    expect(() => parseHookTable(text, 'hooks.json')).toThrow(message);
  });
});

describe('createHookRunner', () => {
  it('holds invocations until it can report, then reports each by the rule; NoReport reports nothing', async () => {
    const reports: string[] = [];
    const runner = createHookRunner({ quiet: 'NoReport' }, undefined, (m) => reports.push(`error ${m}`));
    runner.onInvoke(call('ok'));
    runner.onInvoke(call('bad-fail'));
    runner.onInvoke(call('quiet'));
    runner.onInvoke(call('other', { invocationType: 'RequestResponse' }));
    runner.connect(async (id, exec, status) => void reports.push(`${id} ${exec} ${status}`));
    await new Promise((r) => setImmediate(r));
    expect(reports).toEqual(['d-AAAAAAAAA e-1 Succeeded', 'd-AAAAAAAAA e-1 Failed']);
    expect(runner.played).toEqual(['ok d-AAAAAAAAA Succeeded', 'bad-fail d-AAAAAAAAA Failed', 'quiet d-AAAAAAAAA NoReport']);
  });
  it('lets the decider answer first, and says when a report cannot be delivered', async () => {
    const errors: string[] = [];
    const runner = createHookRunner({}, async (c) => (c.functionName === 'v' ? 'Failed' : undefined), (m) => errors.push(m));
    const sent: string[] = [];
    runner.connect(async (_id, _exec, status) => {
      sent.push(status);
      throw new Error('connect ECONNREFUSED');
    });
    runner.onInvoke(call('v'));
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual(['Failed']);
    expect(errors).toEqual(['hook function v: could not report to the coordinator: connect ECONNREFUSED']);
  });
  it('plays a function with a command: exit 0 reports Succeeded, anything else Failed; the command sees the invocation', async () => {
    const reports: string[] = [];
    const table = { ok: { run: 'test "$DEPLOYMENT_ID/$LIFECYCLE_EVENT_HOOK_EXECUTION_ID/$FUNCTION_NAME" = d-AAAAAAAAA/e-1/ok' }, bad: { run: 'exit 3' } };
    const runner = createHookRunner(table, undefined, (m) => reports.push(`error ${m}`));
    runner.connect(async (_id, _exec, status) => void reports.push(status));
    runner.onInvoke(call('ok'));
    await vi.waitFor(() => expect(reports).toEqual(['Succeeded']), 10_000);
    runner.onInvoke(call('bad'));
    await vi.waitFor(() => expect(reports).toEqual(['Succeeded', 'Failed']), 10_000);
  });
});
