/**
 * CreateDeployment for an ECS application: the revision is an ECS AppSpec (TargetService with the
 * new task definition, the container and port behind the load balancer, optional platform version,
 * network configuration and capacity providers; hooks BeforeInstall … AfterAllowTraffic). The
 * deployment stores it with the group's service, target groups, listeners and termination wait, so
 * a later edit of the group never changes a running deployment.
 */
import { parseAppSpec } from '@fleetdeploy/shared';
import type { EcsAppSpec } from '@fleetdeploy/shared';
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import type { EcsDeploymentSpec } from '../../store/records.js';
import type { LambdaDeploymentRequest } from './lambda-deployments.js';
import { createTrafficDeployment } from './lambda-deployments.js';
import { ecsGroupSetup } from './ecs-groups.js';

const ECS_HOOKS = ['BeforeInstall', 'AfterInstall', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AfterAllowTraffic'] as const;

/** ecsSpec validates an ECS AppSpec, refusing anything else (a Lambda AppSpec too) with InvalidRevisionException. */
function ecsSpec(text: string): EcsAppSpec {
  try {
    return parseAppSpec(text, { platform: 'linux', computePlatform: 'ECS' });
  } catch (err) {
    throw new ApiError('InvalidRevisionException', `The AppSpec is not valid for an ECS deployment: ${err instanceof Error ? err.message.replace(/^appspec: /, '') : String(err)}`);
  }
}

/** createEcsDeployment stores an ECS deployment and hands it to the engine. */
export function createEcsDeployment(input: Input, ctx: ApiContext, req: LambdaDeploymentRequest): Promise<{ deploymentId: string }> {
  return createTrafficDeployment(input, ctx, req, 'ECS', (text, group, routing) => {
    const spec = ecsSpec(text);
    const setup = ecsGroupSetup(group.extra);
    const hooks: EcsDeploymentSpec['hooks'] = {};
    for (const h of spec.hooks) {
      const event = ECS_HOOKS.find((e) => e === h.event);
      if (event !== undefined) hooks[event] = h.functionName;
    }
    const ecs: EcsDeploymentSpec = {
      ...setup,
      taskDefinition: spec.taskDefinition,
      containerName: spec.containerName,
      containerPort: spec.containerPort,
      ...(spec.platformVersion !== undefined ? { platformVersion: spec.platformVersion } : {}),
      ...(spec.networkConfiguration !== undefined ? { networkConfiguration: spec.networkConfiguration } : {}),
      ...(spec.capacityProviderStrategy !== undefined ? { capacityProviderStrategy: spec.capacityProviderStrategy } : {}),
      hooks,
      trafficRoutingConfig: routing,
    };
    return { ecs };
  });
}
