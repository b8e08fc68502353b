import { describe, expect, it } from 'vitest';
import { deploymentRecord } from '../testing/record-builders.js';
import type { TargetRecord } from '../store/records.js';
import type { TriggerConfig } from './trigger-messages.js';
import { deploymentOverview, epochSeconds, notificationsFor, targetOf, triggerEventsOf } from './trigger-messages.js';

const target = (id: string, status: TargetRecord['status'], over: Partial<TargetRecord> = {}): TargetRecord => ({ deploymentId: 'd-ACTIVE001', targetId: id, status, lastUpdatedAt: 1446744207564, lifecycleEvents: [], ...over });
const triggers: TriggerConfig[] = [
  { triggerName: 'ops', triggerTargetArn: 'arn:aws:sns:us-east-2:111222333444:ops', triggerEvents: ['DeploymentFailure', 'InstanceFailure'] },
  { triggerName: 'hook', triggerTargetArn: 'https://hooks.example.com/x', triggerEvents: ['DeploymentStart', 'DeploymentFailure', 'DeploymentRollback'] },
];
const ctx = (over: Partial<Parameters<typeof notificationsFor>[2]> = {}) => ({
  region: 'us-east-2',
  accountId: '111222333444',
  deployment: deploymentRecord({ createTime: 1446744188595, completeTime: 1446744190402, status: 'Failed', errorInformation: { code: 'HEALTH_CONSTRAINTS', message: 'too few healthy instances' } }),
  targets: [target('a', 'Failed'), target('b', 'Skipped'), target('c', 'Skipped')],
  ...over,
});

describe('trigger event types', () => {
  it('map deployment and instance statuses to CodeDeploy trigger events; a rollback starting is also DeploymentRollback', () => {
    const user = { creator: 'user' };
    const d = (status: string) => triggerEventsOf({ type: 'deployment', deploymentId: 'd', status: status as never, at: 0 }, user);
    const i = (status: string) => triggerEventsOf({ type: 'instance', deploymentId: 'd', instanceName: 'a', status: status as never, at: 0 }, user);
    expect([d('InProgress'), d('Succeeded'), d('Failed'), d('Stopped'), d('Ready'), d('Created'), d('Queued'), d('Baking')]).toEqual([['DeploymentStart'], ['DeploymentSuccess'], ['DeploymentFailure'], ['DeploymentStop'], ['DeploymentReady'], [], [], []]);
    expect([i('InProgress'), i('Succeeded'), i('Failed'), i('Ready'), i('Pending'), i('Skipped'), i('Unknown')]).toEqual([['InstanceStart'], ['InstanceSuccess'], ['InstanceFailure'], ['InstanceReady'], [], [], []]);
    expect(triggerEventsOf({ type: 'deployment', deploymentId: 'd', status: 'InProgress', at: 0 }, { creator: 'codeDeployRollback' })).toEqual(['DeploymentStart', 'DeploymentRollback']);
    expect(triggerEventsOf({ type: 'traffic', deploymentId: 'd', weight: 10, at: 0 }, user)).toEqual([]);
  });

  it('tell a webhook URL from an SNS topic ARN', () => {
    expect(targetOf('https://x.example/y')).toEqual({ kind: 'webhook', url: 'https://x.example/y' });
    expect(targetOf('HTTP://127.0.0.1:1/')).toEqual({ kind: 'webhook', url: 'HTTP://127.0.0.1:1/' });
    expect(targetOf('arn:aws:sns:us-east-1:1:t')).toEqual({ kind: 'sns', topicArn: 'arn:aws:sns:us-east-1:1:t' });
  });
});

describe('trigger messages', () => {
  it('a deployment event gives CodeDeploy\'s deployment JSON to each trigger listening for it', () => {
    const out = notificationsFor({ type: 'deployment', deploymentId: 'd-ACTIVE001', status: 'Failed', at: 0 }, triggers, ctx());
    expect(out.map((n) => [n.triggerName, n.triggerEvent, n.target])).toEqual([
      ['ops', 'DeploymentFailure', 'arn:aws:sns:us-east-2:111222333444:ops'],
      ['hook', 'DeploymentFailure', 'https://hooks.example.com/x'],
    ]);
    expect(JSON.parse(out[0]!.body)).toEqual({
      region: 'us-east-2',
      accountId: '111222333444',
      eventTriggerName: 'ops',
      applicationName: 'app',
      deploymentId: 'd-ACTIVE001',
      deploymentGroupName: 'g',
      createTime: '1446744188.595',
      completeTime: '1446744190.402',
      deploymentOverview: JSON.stringify({ Failed: '1', InProgress: '0', Pending: '0', Skipped: '2', Succeeded: '0', Ready: '0' }),
      status: 'FAILED',
      errorInformation: JSON.stringify({ ErrorCode: 'HEALTH_CONSTRAINTS', ErrorMessage: 'too few healthy instances' }),
    });
    expect(out[0]!.subject).toBe('FAILED: AWS CodeDeploy d-ACTIVE001 in us-east-2 to app');
    // each trigger has its own event id, stable for the same event
    expect(out[0]!.eventId).not.toBe(out[1]!.eventId);
    expect(notificationsFor({ type: 'deployment', deploymentId: 'd-ACTIVE001', status: 'Failed', at: 99 }, triggers, ctx()).map((n) => n.eventId)).toEqual(out.map((n) => n.eventId));
  });

  it('a deployment that has not finished has no completeTime nor errorInformation; a starting one says CREATED', () => {
    const running = ctx({ deployment: deploymentRecord({ createTime: 1000, status: 'InProgress' }), targets: [target('a', 'Pending')] });
    const [n] = notificationsFor({ type: 'deployment', deploymentId: 'd-ACTIVE001', status: 'InProgress', at: 0 }, triggers, running);
    const body = JSON.parse(n!.body) as Record<string, unknown>;
    expect(body).not.toHaveProperty('completeTime');
    expect(body).not.toHaveProperty('errorInformation');
    expect(body.status).toBe('CREATED');
    expect(n!.subject).toBe('CREATED: AWS CodeDeploy d-ACTIVE001 in us-east-2 to app');
  });

  it('a rollback starting notifies DeploymentStart and DeploymentRollback, each once, with different ids', () => {
    const rollback = ctx({ deployment: deploymentRecord({ status: 'InProgress', creator: 'codeDeployRollback' }) });
    const out = notificationsFor({ type: 'deployment', deploymentId: 'd-ACTIVE001', status: 'InProgress', at: 0 }, triggers, rollback);
    expect(out.map((n) => n.triggerEvent)).toEqual(['DeploymentStart', 'DeploymentRollback']);
    expect(new Set(out.map((n) => n.eventId)).size).toBe(2);
  });

  it('an instance event gives CodeDeploy\'s instance JSON with its lifecycle events', () => {
    const failed = target('web-1', 'Failed', {
      lifecycleEvents: [
        { lifecycleEventName: 'ApplicationStop', status: 'Succeeded', startTime: 1446744188595, endTime: 1446744188711 },
        { lifecycleEventName: 'BeforeInstall', status: 'Failed', startTime: 1446744189827, endTime: 1446744190402 },
        { lifecycleEventName: 'Install', status: 'Skipped' },
      ],
    });
    const out = notificationsFor({ type: 'instance', deploymentId: 'd-ACTIVE001', instanceName: 'web-1', status: 'Failed', at: 0 }, triggers, ctx({ targets: [failed], instanceArn: 'arn:aws:codedeploy:us-east-2:111222333444:instance/web-1' }));
    expect(out).toHaveLength(1);
    expect(out[0]!.triggerEvent).toBe('InstanceFailure');
    expect(JSON.parse(out[0]!.body)).toEqual({
      region: 'us-east-2',
      accountId: '111222333444',
      eventTriggerName: 'ops',
      deploymentId: 'd-ACTIVE001',
      instanceId: 'arn:aws:codedeploy:us-east-2:111222333444:instance/web-1',
      lastUpdatedAt: '1446744207.564',
      instanceStatus: 'Failed',
      lifecycleEvents: [
        { LifecycleEvent: 'ApplicationStop', LifecycleEventStatus: 'Succeeded', StartTime: '1446744188.595', EndTime: '1446744188.711' },
        { LifecycleEvent: 'BeforeInstall', LifecycleEventStatus: 'Failed', StartTime: '1446744189.827', EndTime: '1446744190.402' },
        { LifecycleEvent: 'Install', LifecycleEventStatus: 'Skipped' },
      ],
    });
    expect(out[0]!.subject).toBe('FAILED: AWS CodeDeploy d-ACTIVE001 in us-east-2 to app');
  });

  it('nobody listening, nothing owed; a subject is cut to SNS\'s 100 characters', () => {
    expect(notificationsFor({ type: 'deployment', deploymentId: 'd-ACTIVE001', status: 'Succeeded', at: 0 }, triggers, ctx())).toEqual([]);
    const long = ctx({ deployment: deploymentRecord({ status: 'Failed', applicationName: 'a'.repeat(200) }) });
    expect(notificationsFor({ type: 'deployment', deploymentId: 'd-ACTIVE001', status: 'Failed', at: 0 }, triggers, long)[0]!.subject).toHaveLength(100);
  });

  it('counts and times are text, as CodeDeploy sends them', () => {
    expect(epochSeconds(1)).toBe('0.001');
    expect(deploymentOverview([])).toEqual({ Failed: '0', InProgress: '0', Pending: '0', Skipped: '0', Succeeded: '0', Ready: '0' });
  });
});
