import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';
import { deploymentRecord } from '../../testing/record-builders.js';
import { newTarget } from '../../deployment/instance-lifecycle.js';

const ROLE = 'arn:aws:iam::000000000000:role/fleetdeploy';

describe('guided failure at the API', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
    await h.ok('CreateApplication', { applicationName: 'app' });
    await h.ok('CreateApplication', { applicationName: 'fn', computePlatform: 'Lambda' });
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g', serviceRoleArn: ROLE });
  });
  afterEach(() => h.close());

  const group = async (name = 'g') => (await h.ok('GetDeploymentGroup', { applicationName: 'app', deploymentGroupName: name })).deploymentGroupInfo;

  it('stores onInstanceFailure from CreateDeploymentGroup, UpdateDeploymentGroup and SetOnInstanceFailure, and echoes it', async () => {
    expect((await group()).onInstanceFailure).toBeUndefined(); // not set: CodeDeploy's behaviour
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g2', serviceRoleArn: ROLE, onInstanceFailure: 'guided' });
    expect((await group('g2')).onInstanceFailure).toBe('guided');
    await h.ok('UpdateDeploymentGroup', { applicationName: 'app', currentDeploymentGroupName: 'g2', deploymentConfigName: 'CodeDeployDefault.AllAtOnce' });
    expect((await group('g2')).onInstanceFailure).toBe('guided'); // an update without the field keeps it
    await h.ok('UpdateDeploymentGroup', { applicationName: 'app', currentDeploymentGroupName: 'g2', onInstanceFailure: 'fail' });
    expect((await group('g2')).onInstanceFailure).toBe('fail');
    expect(await h.ok('FleetDeploy.SetOnInstanceFailure', { applicationName: 'app', deploymentGroupName: 'g', onInstanceFailure: 'guided' })).toEqual({ onInstanceFailure: 'guided' });
    expect((await group()).onInstanceFailure).toBe('guided');
  });

  it.each([
    ['CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g3', serviceRoleArn: ROLE, onInstanceFailure: 'pause' }, 'onInstanceFailure must be one of fail, guided, got "pause"'],
    ['UpdateDeploymentGroup', { applicationName: 'app', currentDeploymentGroupName: 'g', onInstanceFailure: 1 }, 'onInstanceFailure must be a string'],
    ['CreateDeploymentGroup', { applicationName: 'fn', deploymentGroupName: 'l', serviceRoleArn: ROLE, onInstanceFailure: 'guided' }, 'onInstanceFailure guided holds failed instances of Server deployments; a Lambda deployment group has none'],
    ['FleetDeploy.SetOnInstanceFailure', { applicationName: 'app', deploymentGroupName: 'g' }, 'onInstanceFailure is required: fail or guided'],
  ])('%s refuses a bad onInstanceFailure with InvalidOnInstanceFailureException naming it', async (op, input, message) => {
    expect(await h.refused(op, input)).toEqual({ type: 'InvalidOnInstanceFailureException', message });
  });

  it('SetOnInstanceFailure names a missing group', async () => {
    expect((await h.refused('FleetDeploy.SetOnInstanceFailure', { applicationName: 'app', deploymentGroupName: 'nope', onInstanceFailure: 'guided' })).type).toBe('DeploymentGroupDoesNotExistException');
  });

  it.each([
    [{ instanceId: 'h1', action: 'retry' }, 'DeploymentIdRequiredException', 'deploymentId is required'],
    [{ deploymentId: 'd-1', action: 'retry' }, 'InstanceIdRequiredException', 'instanceId is required'],
    [{ deploymentId: 'd-1', instanceId: 'h1' }, 'InvalidGuidedActionException', 'action is required'],
    [{ deploymentId: 'd-1', instanceId: 'h1', action: 'ignore' }, 'InvalidGuidedActionException', 'action must be one of retry, skip, fail, got "ignore"'],
    [{ deploymentId: 'd-NOPE', instanceId: 'h1', action: 'retry' }, 'DeploymentDoesNotExistException', 'Deployment d-NOPE does not exist'],
    [{ deploymentId: 'd-1', instanceId: 'h1', action: 'retry' }, 'InstanceNotWaitingException', 'deployment d-1 is not waiting on instance h1 (it waits on no instance: guided failure holds an instance only once it fails in a group with onInstanceFailure guided)'],
  ])('ResolveInstanceFailure refuses %j with %s', async (input, type, message) => {
    h.store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'InProgress' }));
    expect(await h.refused('FleetDeploy.ResolveInstanceFailure', input)).toEqual({ type, message });
  });

  it('ResolveInstanceFailure answers status Pending when another replica drives the deployment, Resolved when this one applied it', async () => {
    h.store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'InProgress', plan: { status: 'InProgress', minimumHealthy: 0, targets: [{ id: 'h1', status: 'Failed' }], held: ['h1'] } }));
    const input = { deploymentId: 'd-1', instanceId: 'h1', action: 'skip' };
    h.engine.resolveOutcome = 'accepted';
    expect(await h.ok('FleetDeploy.ResolveInstanceFailure', input)).toEqual({ ...input, status: 'Pending' });
    h.engine.resolveOutcome = 'resolved';
    expect(await h.ok('FleetDeploy.ResolveInstanceFailure', input)).toEqual({ ...input, status: 'Resolved' });
  });

  it('GetDeployment shows a held instance, its failure and the choices, in guidedFailure and a status message', async () => {
    const d = deploymentRecord({ deploymentId: 'd-1', status: 'InProgress', plan: { status: 'InProgress', minimumHealthy: 1, targets: [{ id: 'h1', status: 'Failed' }, { id: 'h2', status: 'Pending' }], held: ['h1'] } });
    h.store.putDeployment(d);
    const failed = newTarget('d-1', 'h1', 0);
    failed.status = 'Failed';
    failed.lifecycleEvents[2] = { lifecycleEventName: 'BeforeInstall', status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'b.sh', message: 'exit 3', logTail: '' } };
    h.store.putTarget(failed);
    h.store.putTarget(newTarget('d-1', 'h2', 0));
    const info = (await h.ok('GetDeployment', { deploymentId: 'd-1' })).deploymentInfo;
    expect(info.guidedFailure).toEqual({ waitingInstances: [{ instanceId: 'h1', attempt: 1, lifecycleEvent: 'BeforeInstall', errorCode: 'ScriptFailed', message: 'exit 3' }], choices: ['retry', 'skip', 'fail'] });
    expect(info.deploymentStatusMessages).toContain('guided failure: h1 failed in BeforeInstall (ScriptFailed); waiting for an operator: fleetdeploy resolve d-1 h1 --retry|--skip|--fail');
    expect((await h.refused('FleetDeploy.ResolveInstanceFailure', { deploymentId: 'd-1', instanceId: 'h2', action: 'skip' })).message).toBe('deployment d-1 is not waiting on instance h2 (it waits on h1)');
  });
});
