import { describe, expect, it } from 'vitest';
import type { DeploymentInfo, InstanceTarget, LifecycleEvent, LifecycleEventStatus, TargetStatus } from '@aws-sdk/client-codedeploy';
import { describeDeployment } from './status.js';

const EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'];
const stopFailed: LifecycleEvent = { lifecycleEventName: 'ApplicationStop', status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'stop.sh', message: 'Script at specified location: stop.sh failed with exit code 1' } };
const target = (status: TargetStatus, rest: LifecycleEventStatus[]): InstanceTarget => ({
  targetId: 'sim-1',
  status,
  lifecycleEvents: [stopFailed, ...EVENTS.slice(1).map((lifecycleEventName, i): LifecycleEvent => ({ lifecycleEventName, status: rest[i] ?? 'Pending' }))],
});
const deployment = (ignore: boolean): DeploymentInfo => ({ deploymentId: 'd-AAAAAAAAA', status: 'Succeeded', ignoreApplicationStopFailures: ignore, deploymentOverview: { Succeeded: 1 } });

describe('describeDeployment', () => {
  it('marks a failed ApplicationStop the deployment ignored, on an instance that succeeded', () => {
    const lines = describeDeployment(deployment(true), [target('Succeeded', Array<LifecycleEventStatus>(6).fill('Succeeded'))]);
    expect(lines.at(-1)).toBe('  sim-1    Succeeded  7/7 ApplicationStop (ignored): ScriptFailed stop.sh: Script at specified location: stop.sh failed with exit code 1');
  });

  it('names the running event, not the ignored failure, while the instance goes on', () => {
    expect(describeDeployment(deployment(true), [target('InProgress', ['Succeeded', 'InProgress'])]).at(-1)).toBe('  sim-1    InProgress 2/7 BeforeInstall');
  });

  it('shows the failure as the reason without ignoreApplicationStopFailures, counting no step (as --watch does)', () => {
    expect(describeDeployment(deployment(false), [target('Failed', Array<LifecycleEventStatus>(6).fill('Skipped'))]).at(-1)).toBe('  sim-1    Failed     0/7 ApplicationStop: ScriptFailed stop.sh: Script at specified location: stop.sh failed with exit code 1');
  });

  const failedInValidate: InstanceTarget = {
    targetId: 'web-01',
    status: 'Failed',
    lifecycleEvents: EVENTS.map((lifecycleEventName): LifecycleEvent => ({
      lifecycleEventName,
      status: lifecycleEventName === 'ValidateService' ? 'Failed' : 'Succeeded',
      ...(lifecycleEventName === 'ValidateService' ? { diagnostics: { errorCode: 'ScriptFailed', scriptName: 'v.sh', message: 'exit 3', logTail: 'one\ntwo\nthree\nfour\nfive\nsix\n' } } : {}),
    })),
  };
  const failedDeployment: DeploymentInfo = {
    deploymentId: 'd-AAAAAAAAA',
    status: 'Failed',
    applicationName: 'shop',
    deploymentGroupName: 'web',
    deploymentConfigName: 'CodeDeployDefault.OneAtATime',
    creator: 'user',
    description: 'release 42',
    createTime: new Date('2026-01-01T00:00:00Z'),
    revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'shop/v42.zip', bundleType: 'zip', eTag: 'abc123' } },
    errorInformation: { code: 'HEALTH_CONSTRAINTS', message: 'The deployment\'s only instance failed' },
  };

  it('shows the revision, creator and description, and a failure in ValidateService as 6/7 with its log tail', () => {
    const lines = describeDeployment(failedDeployment, [failedInValidate]);
    expect(lines.slice(0, 4)).toEqual([
      'Deployment d-AAAAAAAAA Failed (shop/web, CodeDeployDefault.OneAtATime)',
      '  revision: s3://revisions/shop/v42.zip (zip, eTag abc123)',
      '  created 2026-01-01T00:00:00.000Z by user',
      '  description: release 42',
    ]);
    expect(lines.slice(-6)).toEqual([
      '  web-01   Failed     6/7 ValidateService: ScriptFailed v.sh: exit 3',
      '             | two',
      '             | three',
      '             | four',
      '             | five',
      '             | six',
    ]);
  });

  it('paints failures red when asked, and gives the running event its elapsed time', () => {
    const red = { red: (t: string) => `<${t}>` };
    const lines = describeDeployment(failedDeployment, [failedInValidate], { now: 0, paint: red });
    expect(lines[0]).toBe('Deployment d-AAAAAAAAA <Failed> (shop/web, CodeDeployDefault.OneAtATime)');
    expect(lines).toContain('<  error: HEALTH_CONSTRAINTS: The deployment\'s only instance failed>');
    expect(lines).toContain('  web-01   <Failed    > 6/7 ValidateService: ScriptFailed v.sh: exit 3');
    const running: InstanceTarget = { targetId: 'web-02', status: 'InProgress', lifecycleEvents: [{ lifecycleEventName: 'ApplicationStop', status: 'Succeeded' }, { lifecycleEventName: 'DownloadBundle', status: 'InProgress', startTime: new Date(1_000) }] };
    expect(describeDeployment(deployment(false), [running], { now: 13_300, paint: red }).at(-1)).toBe('  web-02   InProgress 1/2 DownloadBundle (running 12.3 s)');
  });
});
