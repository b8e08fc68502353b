/**
 * CreateDeployment's blue/green part for a Server group: which instances are the replacement (green,
 * named by `targetInstances.tagFilters`, as CodeDeploy names a manually provisioned replacement) and
 * which the original (blue: the group's other instances), with the group's HAProxy backend and waits
 * and the configuration's traffic routing (all at once unless it says otherwise). Pure over the records.
 */
import type { TrafficRoutingConfig } from '@fleetdeploy/shared';
import { ApiError } from '../api-error.js';
import type { Input } from '../input.js';
import { optionalObject, stringList } from '../input.js';
import type { InstanceRecord, ServerBlueGreenSpec } from '../../store/records.js';
import { checkSelector, matchesSelector } from '../../fleet/tag-match.js';
import { parseTagFilters } from './tag-input.js';
import type { ServerGroupStyle } from './server-groups.js';

const TYPE = 'InvalidTargetInstancesException';

/** refuseTargetInstances: an in-place deployment has no replacement to name. */
export function refuseTargetInstances(input: Input, groupName: string): void {
  if (optionalObject(input, 'targetInstances', TYPE) !== undefined) {
    throw new ApiError(TYPE, `targetInstances names the replacement instances of a blue/green deployment; deployment group ${groupName} deploys in place`);
  }
}

/**
 * serverBlueGreenSpec resolves a blue/green deployment's fleets. `groupInstances` are the instances
 * the group selects, `registered` every registered instance.
 */
export function serverBlueGreenSpec(
  input: Input,
  style: Extract<ServerGroupStyle, { type: 'BLUE_GREEN' }>,
  groupInstances: readonly InstanceRecord[],
  registered: readonly InstanceRecord[],
  routing: TrafficRoutingConfig | undefined,
): ServerBlueGreenSpec {
  const target = optionalObject(input, 'targetInstances', TYPE);
  if (target === undefined) {
    throw new ApiError(TYPE, `targetInstances is required for a blue/green deployment: name the replacement (green) instances by tag, e.g. {"tagFilters":[{"Key":"slot","Value":"green","Type":"KEY_AND_VALUE"}]}`);
  }
  if ((stringList(target, 'autoScalingGroups', TYPE) ?? []).length > 0) throw new ApiError(TYPE, 'targetInstances.autoScalingGroups: on-premises replacements are named by tag (tagFilters), not by Auto Scaling group');
  if (target.ec2TagSet !== undefined && target.ec2TagSet !== null) throw new ApiError(TYPE, 'targetInstances.ec2TagSet: name the replacement instances with targetInstances.tagFilters');
  const filters = parseTagFilters(target.tagFilters, 'targetInstances.tagFilters', TYPE) ?? [];
  const problem = checkSelector(filters, undefined);
  if (problem !== undefined) throw new ApiError(TYPE, `targetInstances.tagFilters: ${problem.message}`);
  if (filters.length === 0) throw new ApiError(TYPE, 'targetInstances.tagFilters must hold at least one filter naming the replacement (green) instances');
  const green = registered.filter((i) => i.deregisterTime === undefined && matchesSelector(i.tags, { filters })).map((i) => i.instanceName);
  if (green.length === 0) throw new ApiError(TYPE, `targetInstances.tagFilters match no registered instance; register and tag the replacement instances first`);
  const isGreen = new Set(green);
  const blue = groupInstances.map((i) => i.instanceName).filter((n) => !isGreen.has(n));
  return {
    backend: style.backend,
    green,
    blue,
    ...(style.readyWaitMinutes === undefined ? {} : { readyWaitMinutes: style.readyWaitMinutes }),
    terminate: style.terminate,
    trafficRoutingConfig: routing ?? { type: 'AllAtOnce' },
  };
}
