/**
 * The operations of blue/green deployments — ContinueDeployment, SkipWaitTimeForInstanceTermination
 * and CloudFormation's DeleteResourcesByExternalId. A Server blue/green deployment (behind HAProxy)
 * may wait in Ready for ContinueDeployment (READY_WAIT), and wait before its original instances are
 * retired; an ECS deployment waits before its original task set is deleted. Either wait before the
 * original goes ends with TERMINATION_WAIT. An in-place deployment is refused as CodeDeploy refuses
 * it (UnsupportedActionForDeploymentTypeException).
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
async function skipTerminationWait(ctx: ApiContext, deploymentId: string): Promise<Record<string, never>> {
  const d = await requireDeployment(ctx.store, deploymentId);
  if (d.computePlatform === 'Lambda') throw new ApiError('UnsupportedActionForDeploymentTypeException', `Deployment ${deploymentId} is a Lambda deployment; it has no original environment to terminate`);
  if (d.computePlatform !== 'ECS' && d.blueGreen === undefined) refuseInPlace(deploymentId, 'skipping the wait before the original instances are terminated');
  if (isFinalStatus(d.status)) throw new ApiError('DeploymentAlreadyCompletedException', `Deployment ${deploymentId} has already completed (${d.status})`);
  if ((await ctx.engine.skipTerminationWait?.(deploymentId)) !== 'skipped') {
    const what = d.blueGreen === undefined ? 'to delete its original task set (it does so only after all traffic has moved and AfterAllowTraffic has succeeded)' : 'to retire its original instances (only a TERMINATE deployment does, after all traffic has moved and AfterBlockTraffic has run)';
    throw new ApiError('DeploymentIsNotInReadyStateException', `Deployment ${deploymentId} is not waiting ${what}`);
  }
  return {};
}

/** blueGreenOperations are the blue/green-only operations of the CodeDeploy API. */
export const blueGreenOperations = {
  async ContinueDeployment(input: Input, ctx: ApiContext) {
    const deploymentId = deploymentIdField(input);
    const waitType = optionalString(input, 'deploymentWaitType', { invalid: 'InvalidDeploymentWaitTypeException' }) ?? 'READY_WAIT';
    if (!(DEPLOYMENT_WAIT_TYPES as readonly string[]).includes(waitType)) {
      throw new ApiError('InvalidDeploymentWaitTypeException', `deploymentWaitType must be READY_WAIT or TERMINATION_WAIT, got ${JSON.stringify(waitType)}`);
    }
    if (waitType === 'TERMINATION_WAIT') return skipTerminationWait(ctx, deploymentId);
    const d = await requireDeployment(ctx.store, deploymentId);
    // An ECS deployment here never waits in Ready (deploymentReadyOption is not run).
    if (d.computePlatform === 'ECS') throw new ApiError('DeploymentIsNotInReadyStateException', `Deployment ${deploymentId} is not waiting in Ready`);
    if (d.blueGreen === undefined) refuseInPlace(deploymentId, 'continuing from Ready (rerouting traffic to the replacement instances)');
    if (isFinalStatus(d.status)) throw new ApiError('DeploymentAlreadyCompletedException', `Deployment ${deploymentId} has already completed (${d.status})`);
    if ((await ctx.engine.continueDeployment?.(deploymentId)) !== 'continued') {
      throw new ApiError('DeploymentIsNotInReadyStateException', `Deployment ${deploymentId} is not waiting in Ready (${d.status}): it waits only after its replacement instances are installed, and only when deploymentReadyOption is STOP_DEPLOYMENT`);
    }
    return {};
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
