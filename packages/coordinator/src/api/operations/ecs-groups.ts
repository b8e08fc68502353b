/**
 * The ECS part of a deployment group, as CodeDeploy requires it: one service (`ecsServices`), one
 * pair of target groups with a production listener and optionally a test listener
 * (`loadBalancerInfo.targetGroupPairInfoList`), and how long the original task set is kept after a
 * success (`blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess`). Pure.
 */
import { ApiError } from '../api-error.js';
import type { Input } from '../input.js';
import { optionalArray, optionalObject, stringList } from '../input.js';

/** EcsGroupSetup is what an ECS deployment takes from its group. */
export interface EcsGroupSetup {
  clusterName: string;
  serviceName: string;
  targetGroupNames: [string, string];
  prodListenerArns: string[];
  testListenerArns: string[];
  terminationWaitMinutes: number;
}

/** MAX_TERMINATION_WAIT_MINUTES is CodeDeploy's limit on terminationWaitTimeInMinutes (two days). */
const MAX_TERMINATION_WAIT_MINUTES = 2880;

function text(o: Input, field: string, where: string, type: string): string {
  const v = o[field];
  if (typeof v !== 'string' || v === '') throw new ApiError(type, `${where}.${field} is required (a non-empty string)`);
  return v;
}

function listenerArns(pair: Input, route: string, required: boolean): string[] {
  const type = 'InvalidTargetGroupPairException';
  const where = `loadBalancerInfo.targetGroupPairInfoList[0].${route}`;
  const o = optionalObject(pair, route, type);
  if (o === undefined) {
    if (required) throw new ApiError(type, `${where} is required: the listener that carries production traffic`);
    return [];
  }
  const arns = stringList(o, 'listenerArns', type) ?? [];
  if (arns.length !== 1) throw new ApiError(type, `${where}.listenerArns must name exactly one listener, got ${arns.length}`);
  return arns;
}

/** ecsGroupSetup validates an ECS group's extra fields, throwing CodeDeploy's exception for the first problem. */
export function ecsGroupSetup(extra: Input): EcsGroupSetup {
  const services = optionalArray(extra, 'ecsServices', 'InvalidECSServiceException') ?? [];
  if (services.length !== 1) throw new ApiError('InvalidECSServiceException', `ecsServices must name exactly one ECS service ({serviceName, clusterName}) for an ECS deployment group, got ${services.length}`);
  const svc = services[0];
  if (typeof svc !== 'object' || svc === null || Array.isArray(svc)) throw new ApiError('InvalidECSServiceException', 'ecsServices[0] must be an object with serviceName and clusterName');
  const serviceName = text(svc as Input, 'serviceName', 'ecsServices[0]', 'InvalidECSServiceException');
  const clusterName = text(svc as Input, 'clusterName', 'ecsServices[0]', 'InvalidECSServiceException');

  const lb = optionalObject(extra, 'loadBalancerInfo', 'InvalidLoadBalancerInfoException');
  const pairs = lb === undefined ? [] : optionalArray(lb, 'targetGroupPairInfoList', 'InvalidTargetGroupPairException') ?? [];
  if (pairs.length !== 1) throw new ApiError('InvalidTargetGroupPairException', `loadBalancerInfo.targetGroupPairInfoList must hold exactly one target group pair for an ECS deployment group, got ${pairs.length}`);
  const pair = pairs[0];
  if (typeof pair !== 'object' || pair === null || Array.isArray(pair)) throw new ApiError('InvalidTargetGroupPairException', 'loadBalancerInfo.targetGroupPairInfoList[0] must be an object');
  const groups = optionalArray(pair as Input, 'targetGroups', 'InvalidTargetGroupPairException') ?? [];
  if (groups.length !== 2) throw new ApiError('InvalidTargetGroupPairException', `loadBalancerInfo.targetGroupPairInfoList[0].targetGroups must name exactly two target groups, got ${groups.length}`);
  const names = groups.map((g, i) => {
    if (typeof g !== 'object' || g === null) throw new ApiError('InvalidTargetGroupPairException', `loadBalancerInfo.targetGroupPairInfoList[0].targetGroups[${i}] must be an object with name`);
    return text(g as Input, 'name', `loadBalancerInfo.targetGroupPairInfoList[0].targetGroups[${i}]`, 'InvalidTargetGroupPairException');
  });
  if (names[0] === names[1]) throw new ApiError('InvalidTargetGroupPairException', `loadBalancerInfo.targetGroupPairInfoList[0].targetGroups names ${names[0]} twice; the pair must be two different target groups`);
  const prodListenerArns = listenerArns(pair as Input, 'prodTrafficRoute', true);
  const testListenerArns = listenerArns(pair as Input, 'testTrafficRoute', false);
  if (testListenerArns[0] !== undefined && testListenerArns[0] === prodListenerArns[0]) {
    throw new ApiError('InvalidTargetGroupPairException', 'loadBalancerInfo.targetGroupPairInfoList[0]: the test listener must differ from the production listener');
  }

  const type = 'InvalidBlueGreenDeploymentConfigurationException';
  const bg = optionalObject(extra, 'blueGreenDeploymentConfiguration', type);
  const terminate = bg === undefined ? undefined : optionalObject(bg, 'terminateBlueInstancesOnDeploymentSuccess', type);
  const wait = terminate?.terminationWaitTimeInMinutes ?? 0;
  if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > MAX_TERMINATION_WAIT_MINUTES) {
    throw new ApiError(type, `blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess.terminationWaitTimeInMinutes must be a whole number from 0 to ${MAX_TERMINATION_WAIT_MINUTES}, got ${JSON.stringify(wait)}`);
  }
  return { clusterName, serviceName, targetGroupNames: [names[0]!, names[1]!], prodListenerArns, testListenerArns, terminationWaitMinutes: wait };
}
