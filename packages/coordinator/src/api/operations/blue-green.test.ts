import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';
import { deploymentRecord } from '../../testing/record-builders.js';

describe('blue/green and Lambda/ECS operations, against in-place Server deployments', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
    h.store.putDeployment(deploymentRecord({ deploymentId: 'd-ACTIVE001' }));
  });
  afterAll(() => h.close());

  it.each([
    ['ContinueDeployment', {}, 'DeploymentIdRequiredException'],
    ['ContinueDeployment', { deploymentId: 'd-NOPE00000' }, 'DeploymentDoesNotExistException'],
    ['ContinueDeployment', { deploymentId: 'd-ACTIVE001', deploymentWaitType: 'SOON' }, 'InvalidDeploymentWaitTypeException'],
    ['ContinueDeployment', { deploymentId: 'd-ACTIVE001' }, 'UnsupportedActionForDeploymentTypeException'],
    ['ContinueDeployment', { deploymentId: 'd-ACTIVE001', deploymentWaitType: 'TERMINATION_WAIT' }, 'UnsupportedActionForDeploymentTypeException'],
    ['SkipWaitTimeForInstanceTermination', {}, 'DeploymentIdRequiredException'],
    ['SkipWaitTimeForInstanceTermination', { deploymentId: 'd-NOPE00000' }, 'DeploymentDoesNotExistException'],
    ['SkipWaitTimeForInstanceTermination', { deploymentId: 'd-ACTIVE001' }, 'UnsupportedActionForDeploymentTypeException'],
    ['PutLifecycleEventHookExecutionStatus', { lifecycleEventHookExecutionId: 'x', status: 'Succeeded' }, 'DeploymentIdRequiredException'],
    ['PutLifecycleEventHookExecutionStatus', { deploymentId: 'd-ACTIVE001', status: 'Succeeded' }, 'InvalidLifecycleEventHookExecutionIdException'],
    ['PutLifecycleEventHookExecutionStatus', { deploymentId: 'd-ACTIVE001', lifecycleEventHookExecutionId: 'x', status: 'Pending' }, 'InvalidLifecycleEventHookExecutionStatusException'],
    ['PutLifecycleEventHookExecutionStatus', { deploymentId: 'd-NOPE00000', lifecycleEventHookExecutionId: 'x', status: 'Failed' }, 'DeploymentDoesNotExistException'],
    ['PutLifecycleEventHookExecutionStatus', { deploymentId: 'd-ACTIVE001', lifecycleEventHookExecutionId: 'x', status: 'Succeeded' }, 'UnsupportedActionForDeploymentTypeException'],
    ['DeleteResourcesByExternalId', { externalId: 5 }, 'InvalidExternalIdException'],
  ])('%s %j → %s', async (operation, input, type) => {
    const r = await h.refused(operation, input);
    expect(r.type).toBe(type);
    expect(r.message).not.toBe('');
    expect(h.store.getDeployment('d-ACTIVE001')?.status).toBe('InProgress');
  });

  it('DeleteResourcesByExternalId has nothing to delete and succeeds', async () => {
    expect(await h.ok('DeleteResourcesByExternalId', { externalId: 'stack-1' })).toEqual({});
    expect(await h.ok('DeleteResourcesByExternalId', {})).toEqual({});
  });
});
