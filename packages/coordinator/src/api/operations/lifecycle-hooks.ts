/**
 * PutLifecycleEventHookExecutionStatus: a Lambda validation function reports its result for a
 * Lambda or ECS deployment's hook; the traffic driver records it and moves the deployment on.
 * Instances report their hooks through the agent instead, so a well-formed call about a Server
 * deployment is refused with UnsupportedActionForDeploymentTypeException.
 */
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { optionalString } from '../input.js';
import { deploymentIdField, requireDeployment } from './deployments.js';

/** HOOK_RESULTS are the statuses a validation function may report. */
export const HOOK_RESULTS = ['Succeeded', 'Failed'] as const;

/** lifecycleHookOperations are the Lambda/ECS hook operations of the CodeDeploy API. */
export const lifecycleHookOperations = {
  async PutLifecycleEventHookExecutionStatus(input: Input, ctx: ApiContext) {
    const deploymentId = deploymentIdField(input);
    const executionId = optionalString(input, 'lifecycleEventHookExecutionId', { invalid: 'InvalidLifecycleEventHookExecutionIdException', max: 200 });
    if (executionId === undefined || executionId === '') throw new ApiError('InvalidLifecycleEventHookExecutionIdException', 'lifecycleEventHookExecutionId is required');
    const status = optionalString(input, 'status', { invalid: 'InvalidLifecycleEventHookExecutionStatusException' });
    if (status === undefined || !(HOOK_RESULTS as readonly string[]).includes(status)) {
      throw new ApiError('InvalidLifecycleEventHookExecutionStatusException', `status must be Succeeded or Failed, got ${JSON.stringify(status ?? null)}`);
    }
    const deployment = await requireDeployment(ctx.store, deploymentId);
    if (deployment.computePlatform === 'Lambda' || deployment.computePlatform === 'ECS') {
      const report = await ctx.engine.hookReported(deploymentId, executionId, status as 'Succeeded' | 'Failed');
      switch (report) {
        case 'recorded':
          return { lifecycleEventHookExecutionId: executionId };
        case 'unknownExecution':
          throw new ApiError('InvalidLifecycleEventHookExecutionIdException', `Deployment ${deploymentId} has no lifecycle event hook execution ${executionId}`);
        case 'alreadyReported':
          throw new ApiError('LifecycleEventAlreadyCompletedException', `The lifecycle event hook execution ${executionId} of deployment ${deploymentId} has already reported its status`);
        case 'deploymentCompleted':
          throw new ApiError('DeploymentAlreadyCompletedException', `Deployment ${deploymentId} has already completed (${deployment.status})`);
      }
    }
    throw new ApiError(
      'UnsupportedActionForDeploymentTypeException',
      `Deployment ${deploymentId} is a Server deployment: its hooks run on the instances and the agents report them; PutLifecycleEventHookExecutionStatus is for Lambda and ECS deployments`,
    );
  },
};
