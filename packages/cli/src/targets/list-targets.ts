/**
 * Reading a deployment's targets from the API: ListDeploymentTargets, then BatchGetDeploymentTargets
 * 25 at a time. A Server deployment's targets are instances (labelled Blue or Green in a blue/green
 * one); a Lambda deployment has one LambdaTarget (`function:alias`), an ECS deployment one ECSTarget
 * (`cluster:service`). Shared by `status` and `--watch`.
 */
import { BatchGetDeploymentTargetsCommand, ListDeploymentTargetsCommand } from '@aws-sdk/client-codedeploy';
import type { DeploymentTarget, InstanceTarget } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import type { TrafficTarget } from '../progress/traffic-target.js';
import { ecsTrafficTarget, trafficTarget } from '../progress/traffic-target.js';

/** listDeploymentTargets reads every target of a deployment. */
export async function listDeploymentTargets(aws: AwsContext, deploymentId: string): Promise<DeploymentTarget[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await callApi('ListDeploymentTargets', aws.endpoint, () => aws.codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId, ...(nextToken ? { nextToken } : {}) })));
    ids.push(...(page.targetIds ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const out: DeploymentTarget[] = [];
  for (let i = 0; i < ids.length; i += 25) {
    const batch = await callApi('BatchGetDeploymentTargets', aws.endpoint, () => aws.codedeploy.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids.slice(i, i + 25) })));
    out.push(...(batch.deploymentTargets ?? []));
  }
  return out;
}

/** instanceTargets are the instance targets, by name (sim-2 before sim-10). */
export function instanceTargets(targets: readonly DeploymentTarget[]): InstanceTarget[] {
  return targets
    .flatMap((t) => (t.instanceTarget === undefined ? [] : [t.instanceTarget]))
    .sort((a, b) => (a.targetId ?? '').localeCompare(b.targetId ?? '', 'en', { numeric: true }));
}

/** trafficTargets are the Lambda and ECS targets, as the CLI shows them. */
export function trafficTargets(targets: readonly DeploymentTarget[]): TrafficTarget[] {
  return targets.flatMap((t) => {
    if (t.lambdaTarget !== undefined) return [trafficTarget(t.lambdaTarget)];
    if (t.ecsTarget !== undefined) return [ecsTrafficTarget(t.ecsTarget)];
    return [];
  });
}
