/**
 * Guided failure at the API edge (a fleetdeploy extension, see deployment/guided-failure.ts): the
 * `onInstanceFailure` field that CreateDeploymentGroup and UpdateDeploymentGroup accept and
 * GetDeploymentGroup echoes, and two operations under `FleetDeploy_20261204.` for clients that
 * validate CodeDeploy's fields themselves (the AWS CLI and SDKs know no such field):
 *
 *   SetOnInstanceFailure    {"applicationName", "deploymentGroupName", "onInstanceFailure": "guided"|"fail"}   admin
 *   ResolveInstanceFailure  {"deploymentId", "instanceId", "action": "retry"|"skip"|"fail"}                   deployer
 *
 * ResolveInstanceFailure answers `status: "Resolved"` once the answer is applied, or `"Pending"`
 * when another replica drives the deployment: the answer is recorded for it, which applies it in
 * moments (GetDeployment shows the instance no longer waiting then).
 */
import type { ComputePlatform } from '@fleetdeploy/shared';
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { optionalString, requiredString } from '../input.js';
import { applicationNameField, requireApplication } from './applications.js';
import { groupNameField, requireGroup } from './deployment-groups.js';
import { deploymentIdField, requireDeployment } from './deployments.js';
import { GUIDED_ACTIONS, ON_INSTANCE_FAILURE_VALUES } from '../../deployment/guided-failure.js';
import type { OnInstanceFailure } from '../../deployment/guided-failure.js';
import type { GuidedAction } from '../../deployment/fleet-plan.js';
import { isFinalStatus } from '../../store/records.js';
import { stillRunningMessage } from '../../deployment/outliving-commands.js';

const INVALID = 'InvalidOnInstanceFailureException';

/** onInstanceFailureField reads `onInstanceFailure` (undefined when absent); only Server groups have instances to hold. */
export function onInstanceFailureField(input: Input, platform: ComputePlatform): OnInstanceFailure | undefined {
  const value = optionalString(input, 'onInstanceFailure', { invalid: INVALID });
  if (value === undefined) return undefined;
  if (!(ON_INSTANCE_FAILURE_VALUES as readonly string[]).includes(value)) {
    throw new ApiError(INVALID, `onInstanceFailure must be one of ${ON_INSTANCE_FAILURE_VALUES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  if (platform !== 'Server' && value === 'guided') throw new ApiError(INVALID, `onInstanceFailure guided holds failed instances of Server deployments; a ${platform} deployment group has none`);
  return value as OnInstanceFailure;
}

/** guidedFailureOperations are served under `FleetDeploy_20261204.` beside ListInstances. */
export const guidedFailureOperations = {
  async SetOnInstanceFailure(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const name = groupNameField(input);
    const app = await requireApplication(ctx.store, appName);
    const value = onInstanceFailureField(input, app.computePlatform);
    if (value === undefined) throw new ApiError(INVALID, `onInstanceFailure is required: ${ON_INSTANCE_FAILURE_VALUES.join(' or ')}`);
    await ctx.store.transaction(async (tx) => {
      const group = await requireGroup(tx, appName, name);
      await tx.putGroup({ ...group, extra: { ...group.extra, onInstanceFailure: value } });
    });
    return { onInstanceFailure: value };
  },

  async ResolveInstanceFailure(input: Input, ctx: ApiContext) {
    const deploymentId = deploymentIdField(input);
    const instanceId = requiredString(input, 'instanceId', { required: 'InstanceIdRequiredException', invalid: 'InvalidInstanceNameException', max: 100 });
    const action = requiredString(input, 'action', { required: 'InvalidGuidedActionException', invalid: 'InvalidGuidedActionException' });
    if (!(GUIDED_ACTIONS as readonly string[]).includes(action)) throw new ApiError('InvalidGuidedActionException', `action must be one of ${GUIDED_ACTIONS.join(', ')}, got ${JSON.stringify(action)}`);
    const deployment = await requireDeployment(ctx.store, deploymentId);
    const notHeld = (): ApiError =>
      new ApiError('InstanceNotWaitingException', isFinalStatus(deployment.status)
        ? `deployment ${deploymentId} has ended (${deployment.status}); it waits on no instance`
        : `deployment ${deploymentId} is not waiting on instance ${instanceId}${(deployment.plan?.held ?? []).length > 0 ? ` (it waits on ${deployment.plan!.held!.join(', ')})` : ' (it waits on no instance: guided failure holds an instance only once it fails in a group with onInstanceFailure guided)'}`);
    const outcome = await ctx.engine.resolveInstanceFailure(deploymentId, instanceId, action as GuidedAction);
    switch (outcome) {
      case 'resolved':
        return { deploymentId, instanceId, action, status: 'Resolved' };
      case 'accepted':
        return { deploymentId, instanceId, action, status: 'Pending' };
      case 'noDeployment':
        throw new ApiError('DeploymentDoesNotExistException', `Deployment ${deploymentId} does not exist`);
      case 'notHeld':
        throw notHeld();
      case 'stillRunning':
        throw new ApiError('InstanceBusyException', stillRunningMessage(instanceId, ctx.engine.stillRunningOn(instanceId)), 409);
      case 'failed':
        throw new Error(`the decision about ${instanceId} in ${deploymentId} could not be stored`);
    }
  },
};
