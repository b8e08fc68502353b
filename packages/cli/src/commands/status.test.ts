import { describe, expect, it } from 'vitest';
import type { DeploymentInfo, ECSTarget, InstanceTarget, LifecycleEvent, LifecycleEventStatus, TargetStatus } from '@aws-sdk/client-codedeploy';
import { describeDeployment } from './status.js';
import { ecsTrafficTarget } from '../progress/traffic-target.js';

const EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'];
const stopFailed: LifecycleEvent = { lifecycleEventName: 'ApplicationStop', status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'stop.sh', message: 'Script at specified location: stop.sh failed with exit code 1' } };
const target = (status: TargetStatus, rest: LifecycleEventStatus[]): InstanceTarget => ({
  targetId: 'sim-1',
  status,
  lifecycleEvents: [stopFailed, ...EVENTS.slice(1).map((lifecycleEventName, i): LifecycleEvent => ({ lifecycleEventName, status: rest[i] ?? 'Pending' }))],
});
const PLAIN_PAINT = { red: (t: string) => t };
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

  const GREEN = [...EVENTS, 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];
  const BLUE = ['BeforeBlockTraffic', 'BlockTraffic', 'AfterBlockTraffic'];
  /** labelled is a blue/green instance whose first `done` events succeeded. */
  const labelled = (targetId: string, instanceLabel: 'Blue' | 'Green', status: TargetStatus, done: number): InstanceTarget => ({
    targetId,
    instanceLabel,
    status,
    lifecycleEvents: (instanceLabel === 'Green' ? GREEN : BLUE).map((lifecycleEventName, i): LifecycleEvent => ({ lifecycleEventName, status: i < done ? 'Succeeded' : 'Pending' })),
  });
  const blueGreen = (status: string, extra: Partial<DeploymentInfo> = {}): DeploymentInfo => ({
    deploymentId: 'd-BLUEGREEN',
    status: status as DeploymentInfo['status'],
    applicationName: 'shop',
    deploymentGroupName: 'bg',
    deploymentConfigName: 'CodeDeployDefault.AllAtOnce',
    deploymentOverview: { Ready: 2, Pending: 2 },
    blueGreenDeploymentConfiguration: { deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 }, terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 5 } },
    ...extra,
  });

  it('groups a blue/green deployment\'s instances, replacement (green) first, counting 10 and 3 steps; in Ready it says how to continue', () => {
    const targets = [labelled('sim-1', 'Blue', 'Pending', 0), labelled('sim-2', 'Green', 'Ready', 7), labelled('sim-3', 'Blue', 'Pending', 0), labelled('sim-4', 'Green', 'Ready', 7)];
    const lines = describeDeployment(blueGreen('Ready'), targets, { now: 0, paint: { red: (t) => t } });
    expect(lines).toContain('  instances: 0 succeeded, 0 failed, 0 skipped, 0 in progress, 2 pending, 2 ready');
    expect(lines.slice(-8)).toEqual([
      '  waiting in Ready: the replacement is installed and has no traffic yet; reroute it now with: fleetdeploy continue d-BLUEGREEN (or aws deploy continue-deployment --deployment-id d-BLUEGREEN --deployment-wait-type READY_WAIT)',
      '  stops by itself after 60 min in Ready (deploymentReadyOption STOP_DEPLOYMENT)',
      '  replacement (green):',
      '    sim-2    Ready      7/10 ValidateService; installed, waits for traffic',
      '    sim-4    Ready      7/10 ValidateService; installed, waits for traffic',
      '  original (blue):',
      '    sim-1    Pending    0/3',
      '    sim-3    Pending    0/3',
    ]);
    expect(lines.filter((l) => l.startsWith('  waiting') || l.startsWith('  stops'))).toHaveLength(2);
  });

  it('a finished blue/green deployment: 10/10 and 3/3, no wait; the termination wait says how to end it', () => {
    const done = [labelled('sim-1', 'Blue', 'Succeeded', 3), labelled('sim-2', 'Green', 'Succeeded', 10)];
    const lines = describeDeployment(blueGreen('Succeeded'), done);
    expect(lines.slice(-4)).toEqual(['  replacement (green):', '    sim-2    Succeeded  10/10 AfterAllowTraffic', '  original (blue):', '    sim-1    Succeeded  3/3 AfterBlockTraffic']);
    expect(lines.join('\n')).not.toMatch(/waiting|continue/);
    const waiting = describeDeployment(blueGreen('InProgress', { instanceTerminationWaitTimeStarted: true }), done);
    expect(waiting).toContain('  waiting to retire the original (5 min termination wait); end the wait now with: fleetdeploy continue d-BLUEGREEN --termination-wait');
  });

  it('an ECS deployment shows its service, the blue/green split and its eight events, and no instance count', () => {
    const ecs: ECSTarget = {
      targetId: 'shop:web',
      status: 'InProgress',
      lifecycleEvents: ['BeforeInstall', 'Install', 'AfterInstall', 'AllowTestTraffic', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'].map((lifecycleEventName, i) => ({ lifecycleEventName, status: i < 6 ? 'Succeeded' : i === 6 ? 'InProgress' : 'Pending' })),
      taskSetsInfo: [{ taskSetLabel: 'Blue', trafficWeight: 70 }, { taskSetLabel: 'Green', trafficWeight: 30 }],
    };
    const lines = describeDeployment({ deploymentId: 'd-ECS000001', status: 'InProgress', applicationName: 'shop', deploymentGroupName: 'web', deploymentConfigName: 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes' }, [], { now: 0, paint: PLAIN_PAINT }, [ecsTrafficTarget(ecs)]);
    expect(lines).toContain('  target: shop:web  InProgress  task sets blue → green  ██████░░░░░░░░░░░░░░  70 % on blue, 30 % on green');
    expect(lines).toContain('    AllowTraffic           InProgress');
    expect(lines.slice(-8).map((l) => l.trim().split(/\s+/)[0])).toEqual(['BeforeInstall', 'Install', 'AfterInstall', 'AllowTestTraffic', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic']);
    expect(lines.join('\n')).not.toMatch(/instances:/);
  });
});
