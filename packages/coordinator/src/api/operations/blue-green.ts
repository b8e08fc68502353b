/**
 * The operations of blue/green deployments — ContinueDeployment, SkipWaitTimeForInstanceTermination
 * and CloudFormation's DeleteResourcesByExternalId. This coordinator runs in-place deployments only
 * (on-premises instances cannot be replaced), so it answers them as CodeDeploy answers them for an
 * in-place deployment: the request is read and the deployment found, then the action is refused
 * with UnsupportedActionForDeploymentTypeException (an in-place deployment never waits in Ready,
 * and has no original environment to terminate). An ECS deployment's wait before its original
 * task set is deleted (terminationWaitTimeInMinutes) can be ended with either TERMINATION_WAIT call.
 */
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { optionalString } from '../input.js';
import { deploymentIdField, requireDeployment } from './deployments.js';
import { isFinalStatus } from '../../store/records.js';

/** DEPLOYMENT_WAIT_TYPES are CodeDeploy's DeploymentWaitType values. */
export const DEPLOYMENT_WAIT_TYPES = ['READY_WAIT', 'TERMINATION_WAIT'] as const;

function refuseInPlace(deploymentId: string, action: string): never {
  throw new ApiError('UnsupportedActionForDeploymentTypeException', `Deployment ${deploymentId} is an in-place deployment; ${action} applies to blue/green deployments only`);
}

/**
 * skipTerminationWait ends an ECS deployment's wait before its original task set is deleted. A
 * Server deployment is refused as in-place; a Lambda one has no original to remove.
 */
function skipTerminationWait(ctx: ApiContext, deploymentId: string): Record<string, never> {
  const d = requireDeployment(ctx, deploymentId);
  if (d.computePlatform === 'Lambda') throw new ApiError('UnsupportedActionForDeploymentTypeException', `Deployment ${deploymentId} is a Lambda deployment; it has no original environment to terminate`);
  if (d.computePlatform !== 'ECS') refuseInPlace(deploymentId, 'skipping the wait before the original instances are terminated');
  if (isFinalStatus(d.status)) throw new ApiError('DeploymentAlreadyCompletedException', `Deployment ${deploymentId} has already completed (${d.status})`);
  if (ctx.engine.skipTerminationWait?.(deploymentId) !== 'skipped') {
    throw new ApiError('DeploymentIsNotInReadyStateException', `Deployment ${deploymentId} is not waiting to delete its original task set (it does so only after all traffic has moved and AfterAllowTraffic has succeeded)`);
  }
  return {};
}

/** blueGreenOperations are the blue/green-only operations of the CodeDeploy API. */
export const blueGreenOperations = {
  ContinueDeployment(input: Input, ctx: ApiContext) {
    const deploymentId = deploymentIdField(input);
    const waitType = optionalString(input, 'deploymentWaitType', { invalid: 'InvalidDeploymentWaitTypeException' }) ?? 'READY_WAIT';
    if (!(DEPLOYMENT_WAIT_TYPES as readonly string[]).includes(waitType)) {
      throw new ApiError('InvalidDeploymentWaitTypeException', `deploymentWaitType must be READY_WAIT or TERMINATION_WAIT, got ${JSON.stringify(waitType)}`);
    }
    if (waitType === 'TERMINATION_WAIT') return skipTerminationWait(ctx, deploymentId);
    const d = requireDeployment(ctx, deploymentId);
    // An ECS deployment here never waits in Ready (deploymentReadyOption is not run).
    if (d.computePlatform === 'ECS') throw new ApiError('DeploymentIsNotInReadyStateException', `Deployment ${deploymentId} is not waiting in Ready`);
    refuseInPlace(deploymentId, 'continuing from Ready (rerouting traffic to the replacement instances)');
  },

  SkipWaitTimeForInstanceTermination(input: Input, ctx: ApiContext) {
    return skipTerminationWait(ctx, deploymentIdField(input));
  },

  /** DeleteResourcesByExternalId: nothing here is linked to an external id (CloudFormation), so there is nothing to delete. */
  DeleteResourcesByExternalId(input: Input) {
    optionalString(input, 'externalId', { invalid: 'InvalidExternalIdException', max: 200 });
    return {};
  },
};
