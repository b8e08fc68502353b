/**
 * The operations of blue/green deployments — ContinueDeployment, SkipWaitTimeForInstanceTermination
 * and CloudFormation's DeleteResourcesByExternalId. This coordinator runs in-place deployments only
 * (on-premises instances cannot be replaced), so it answers them as CodeDeploy answers them for an
 * in-place deployment: the request is read and the deployment found, then the action is refused
 * with UnsupportedActionForDeploymentTypeException (an in-place deployment never waits in Ready,
 * and has no original environment to terminate).
 */
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { optionalString } from '../input.js';
import { deploymentIdField, requireDeployment } from './deployments.js';

/** DEPLOYMENT_WAIT_TYPES are CodeDeploy's DeploymentWaitType values. */
export const DEPLOYMENT_WAIT_TYPES = ['READY_WAIT', 'TERMINATION_WAIT'] as const;

function refuseInPlace(deploymentId: string, action: string): never {
  throw new ApiError('UnsupportedActionForDeploymentTypeException', `Deployment ${deploymentId} is an in-place deployment; ${action} applies to blue/green deployments only`);
}

/** blueGreenOperations are the blue/green-only operations of the CodeDeploy API. */
export const blueGreenOperations = {
  ContinueDeployment(input: Input, ctx: ApiContext) {
    const deploymentId = deploymentIdField(input);
    const waitType = optionalString(input, 'deploymentWaitType', { invalid: 'InvalidDeploymentWaitTypeException' }) ?? 'READY_WAIT';
    if (!(DEPLOYMENT_WAIT_TYPES as readonly string[]).includes(waitType)) {
      throw new ApiError('InvalidDeploymentWaitTypeException', `deploymentWaitType must be READY_WAIT or TERMINATION_WAIT, got ${JSON.stringify(waitType)}`);
    }
    requireDeployment(ctx, deploymentId);
    refuseInPlace(deploymentId, waitType === 'READY_WAIT' ? 'continuing from Ready (rerouting traffic to the replacement instances)' : 'skipping the wait before the original instances are terminated');
  },

  SkipWaitTimeForInstanceTermination(input: Input, ctx: ApiContext) {
    const deploymentId = deploymentIdField(input);
    requireDeployment(ctx, deploymentId);
    refuseInPlace(deploymentId, 'skipping the wait before the original instances are terminated');
  },

  /** DeleteResourcesByExternalId: nothing here is linked to an external id (CloudFormation), so there is nothing to delete. */
  DeleteResourcesByExternalId(input: Input) {
    optionalString(input, 'externalId', { invalid: 'InvalidExternalIdException', max: 200 });
    return {};
  },
};
