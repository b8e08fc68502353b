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

  it('shows the failure as the reason without ignoreApplicationStopFailures', () => {
    expect(describeDeployment(deployment(false), [target('Failed', Array<LifecycleEventStatus>(6).fill('Skipped'))]).at(-1)).toBe('  sim-1    Failed     7/7 ApplicationStop: ScriptFailed stop.sh: Script at specified location: stop.sh failed with exit code 1');
  });
});
