/**
 * Deployment windows at the API edge (a fleetdeploy extension, see deployment/windows.ts): the
 * `deploymentWindows` field that CreateDeploymentGroup and UpdateDeploymentGroup accept and
 * GetDeploymentGroup echoes, the refusal of CreateDeployment outside a window, and the
 * `FleetDeploy_20261204.PutDeploymentWindows` / `GetDeploymentWindows` / `DeleteDeploymentWindows` operations for clients
 * that validate CodeDeploy's fields themselves (the AWS CLI does, and knows no such field).
 *
 *   {"applicationName": "app", "deploymentGroupName": "web",
 *    "deploymentWindows": {"windows": [{"cron": "0 22 * * 1-5", "durationMinutes": 120, "timeZone": "Europe/Paris"}],
 *                          "outsideWindow": "queue", "windowClose": "finish-running"}}
 */
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { ApiError } from '../api-error.js';
import { applicationNameField } from './applications.js';
import { groupNameField, requireGroup } from './deployment-groups.js';
import { parseWindowPolicy, policyOf, refusalMessage, windowState, WindowPolicyError } from '../../deployment/windows.js';
import type { WindowPolicy } from '../../deployment/windows.js';

/** windowPolicyField reads `deploymentWindows`: a policy, null to remove it (Update), undefined when absent. */
export function windowPolicyField(input: Input): WindowPolicy | null | undefined {
  const value = input.deploymentWindows;
  if (value === undefined) return undefined;
  if (value === null) return null;
  try {
    return parseWindowPolicy(value);
  } catch (err) {
    if (err instanceof WindowPolicyError) throw new ApiError('InvalidDeploymentWindowsException', err.message);
    throw err;
  }
}

/**
 * refuseOutsideWindow throws DeploymentWindowClosedException when the group refuses deployments
 * outside its windows (outsideWindow: refuse) and none is open; a missing group is left to the caller.
 */
export async function refuseOutsideWindow(ctx: ApiContext, applicationName: string, groupName: string): Promise<void> {
  const group = await ctx.store.getGroup(applicationName, groupName);
  const policy = group === undefined ? undefined : policyOf(group.extra);
  if (policy?.outsideWindow !== 'refuse') return;
  const state = windowState(policy.windows, ctx.clock.now());
  if (!state.open) throw new ApiError('DeploymentWindowClosedException', refusalMessage(groupName, state));
}

/** windowOperations are served under `FleetDeploy_20261204.` beside ListInstances. */
export const windowOperations = {
  async PutDeploymentWindows(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const name = groupNameField(input);
    const policy = windowPolicyField(input);
    if (policy === undefined || policy === null) throw new ApiError('InvalidDeploymentWindowsException', 'deploymentWindows is required (use DeleteDeploymentWindows to remove them)');
    await ctx.store.transaction(async (tx) => {
      const group = await requireGroup(tx, appName, name);
      await tx.putGroup({ ...group, extra: { ...group.extra, deploymentWindows: policy } });
    });
    ctx.engine.fleetChanged(); // queued and running deployments look at the new windows
    return { deploymentWindows: policy };
  },

  async GetDeploymentWindows(input: Input, ctx: ApiContext) {
    const group = await requireGroup(ctx.store, applicationNameField(input), groupNameField(input));
    return { deploymentWindows: policyOf(group.extra) };
  },

  async DeleteDeploymentWindows(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const name = groupNameField(input);
    await ctx.store.transaction(async (tx) => {
      const group = await requireGroup(tx, appName, name);
      const { deploymentWindows: _removed, ...extra } = group.extra;
      await tx.putGroup({ ...group, extra });
    });
    ctx.engine.fleetChanged();
    return {};
  },
};
