/**
 * The blue/green part of a Server deployment group: the HAProxy backend that carries its traffic
 * (`loadBalancerInfo.targetGroupInfoList[0].name`, or an `elbInfoList` name), and
 * `blueGreenDeploymentConfiguration`. On premises nothing can be provisioned, so the replacement
 * instances must exist already (DISCOVER_EXISTING) and are named per deployment by
 * `targetInstances.tagFilters`. Pure.
 */
import type { TrafficRoutingConfig } from '@fleetdeploy/shared';
import { ApiError } from '../api-error.js';
import type { Input } from '../input.js';
import { optionalArray, optionalObject, optionalString } from '../input.js';
import type { ServerBlueGreenSpec } from '../../store/records.js';

/** MAX_WAIT_MINUTES is CodeDeploy's limit on the blue/green waits (two days). */
const MAX_WAIT_MINUTES = 2880;
const BG = 'InvalidBlueGreenDeploymentConfigurationException';

/** ServerGroupStyle is how a Server group deploys: in place, or blue/green behind an HAProxy backend. */
export type ServerGroupStyle = { type: 'IN_PLACE' } | ({ type: 'BLUE_GREEN' } & Omit<ServerBlueGreenSpec, 'green' | 'blue' | 'trafficRoutingConfig'>);

function minutes(o: Input | undefined, field: string, where: string): number | undefined {
  const v = o?.[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_WAIT_MINUTES) {
    throw new ApiError(BG, `${where}.${field} must be a whole number of minutes from 0 to ${MAX_WAIT_MINUTES}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function choice<T extends string>(o: Input | undefined, field: string, where: string, allowed: readonly T[], fallback: T): T {
  const v = o === undefined ? undefined : optionalString(o, field, { invalid: BG });
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new ApiError(BG, `${where}.${field} must be ${allowed.join(' or ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** backendName reads the one HAProxy backend a blue/green group names. */
function backendName(extra: Input): string {
  const type = 'InvalidLoadBalancerInfoException';
  const lb = optionalObject(extra, 'loadBalancerInfo', type);
  const named = [
    ...(lb === undefined ? [] : (optionalArray(lb, 'targetGroupInfoList', type) ?? []).map((t, i) => ({ t, where: `loadBalancerInfo.targetGroupInfoList[${i}]` }))),
    ...(lb === undefined ? [] : (optionalArray(lb, 'elbInfoList', type) ?? []).map((t, i) => ({ t, where: `loadBalancerInfo.elbInfoList[${i}]` }))),
  ];
  if (named.length !== 1) {
    throw new ApiError(type, `a blue/green Server deployment group needs loadBalancerInfo naming exactly one HAProxy backend (targetGroupInfoList: [{name: BACKEND}]), got ${named.length}`);
  }
  const { t, where } = named[0]!;
  const name = typeof t === 'object' && t !== null ? (t as Input).name : undefined;
  if (typeof name !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(name)) {
    throw new ApiError(type, `${where}.name must be an HAProxy backend name (letters, digits, . _ : -), got ${JSON.stringify(name)}`);
  }
  return name;
}

/**
 * serverGroupStyle validates a Server group's style-dependent fields, throwing CodeDeploy's exception
 * for the first problem. An in-place group keeps no load balancer here: fleetdeploy does not block
 * and allow traffic around an in-place deployment.
 */
export function serverGroupStyle(extra: Input): ServerGroupStyle {
  const style = optionalObject(extra, 'deploymentStyle', 'InvalidDeploymentStyleException');
  const type = style?.deploymentType ?? 'IN_PLACE';
  const option = style?.deploymentOption ?? 'WITHOUT_TRAFFIC_CONTROL';
  if (type === 'IN_PLACE') {
    if (option === 'WITH_TRAFFIC_CONTROL') {
      throw new ApiError('InvalidDeploymentStyleException', 'an IN_PLACE Server group cannot use WITH_TRAFFIC_CONTROL here: traffic control is done by BLUE_GREEN deployments behind an HAProxy backend');
    }
    return { type: 'IN_PLACE' };
  }
  if (option !== 'WITH_TRAFFIC_CONTROL') {
    throw new ApiError('InvalidDeploymentStyleException', 'a BLUE_GREEN Server group needs deploymentOption WITH_TRAFFIC_CONTROL: its traffic moves through an HAProxy backend');
  }
  const backend = backendName(extra);
  const bg = optionalObject(extra, 'blueGreenDeploymentConfiguration', BG);
  const where = 'blueGreenDeploymentConfiguration';
  const green = bg === undefined ? undefined : optionalObject(bg, 'greenFleetProvisioningOption', BG);
  choice(green, 'action', `${where}.greenFleetProvisioningOption`, ['DISCOVER_EXISTING'] as const, 'DISCOVER_EXISTING');
  const ready = bg === undefined ? undefined : optionalObject(bg, 'deploymentReadyOption', BG);
  const onTimeout = choice(ready, 'actionOnTimeout', `${where}.deploymentReadyOption`, ['CONTINUE_DEPLOYMENT', 'STOP_DEPLOYMENT'] as const, 'CONTINUE_DEPLOYMENT');
  const readyWait = minutes(ready, 'waitTimeInMinutes', `${where}.deploymentReadyOption`) ?? 0;
  const terminate = bg === undefined ? undefined : optionalObject(bg, 'terminateBlueInstancesOnDeploymentSuccess', BG);
  const action = choice(terminate, 'action', `${where}.terminateBlueInstancesOnDeploymentSuccess`, ['TERMINATE', 'KEEP_ALIVE'] as const, 'KEEP_ALIVE');
  const waitMinutes = minutes(terminate, 'terminationWaitTimeInMinutes', `${where}.terminateBlueInstancesOnDeploymentSuccess`) ?? 0;
  return { type: 'BLUE_GREEN', backend, ...(onTimeout === 'STOP_DEPLOYMENT' ? { readyWaitMinutes: readyWait } : {}), terminate: { action, waitMinutes } };
}

/** checkServerRouting refuses a traffic-routing configuration where nothing can shift traffic (an in-place group). */
export function checkServerRouting(style: ServerGroupStyle, configName: string, routing: TrafficRoutingConfig | undefined): void {
  if (style.type === 'IN_PLACE' && routing !== undefined) {
    throw new ApiError('InvalidTrafficRoutingConfigurationException', `${configName} shifts traffic (trafficRoutingConfig), but this in-place group has no load balancer; use it with a BLUE_GREEN group behind an HAProxy backend, or choose a configuration without trafficRoutingConfig`);
  }
}
