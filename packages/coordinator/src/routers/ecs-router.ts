/**
 * The ECS router: a blue/green replacement of an ECS service's task set behind an Application Load
 * Balancer, as CodeDeploy does it. The service must use the EXTERNAL deployment controller (the
 * coordinator manages its task sets); its one task set not made by this deployment is the original,
 * and the original's target group (one of the group's pair) is blue, the other green.
 *
 *   install       : CreateTaskSet (the AppSpec's task definition, green target group, externalId = deployment id)
 *   testTraffic   : every test listener forwards 100 % to green
 *   shift w       : every production listener forwards 100−w % to blue and w % to green;
 *                   at 100 the replacement becomes the service's primary task set
 *   cleanup       : DeleteTaskSet of the original (after terminationWaitTimeInMinutes)
 *   rollback      : listeners back to 100 % blue, the original primary again, the replacement deleted
 *
 * Every step reads the service first and is idempotent, so a restarted coordinator can repeat it.
 * Clients are configured from the environment (AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2).
 */
import type { TaskSet } from '@aws-sdk/client-ecs';
import { CreateTaskSetCommand, DeleteTaskSetCommand, DescribeServicesCommand, DescribeTaskSetsCommand, ECSClient, UpdateServicePrimaryTaskSetCommand } from '@aws-sdk/client-ecs';
import { DescribeListenersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { EcsDeploymentSpec } from '../store/records.js';
import type { TrafficRouter } from '../deployment/traffic/router.js';
import { RouterError } from '../deployment/traffic/router.js';
import { describeAwsError } from '../aws-error.js';
import { invokeHookFunction } from './lambda-router.js';

const CLIENT_OPTIONS = { requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 } };

/** EcsClients are the SDK clients an ECS router uses (hooks are Lambda functions). */
export interface EcsClients {
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
  lambda: LambdaClient;
}

/** lazyEcsClients gives the ECS and ELBv2 clients the coordinator's ECS routers share, made on first use. */
export function lazyEcsClients(lambda: () => LambdaClient): () => EcsClients {
  let clients: EcsClients | undefined;
  return () => (clients ??= { ecs: new ECSClient(CLIENT_OPTIONS), elb: new ElasticLoadBalancingV2Client(CLIENT_OPTIONS), lambda: lambda() });
}

/** call runs one AWS call, turning its failure into a RouterError with CodeDeploy's error code. */
async function call<T>(code: string, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new RouterError(code, `Could not ${what}: ${describeAwsError(err)}`);
  }
}

/** createEcsRouter builds the router of one ECS deployment. */
export function createEcsRouter(clients: EcsClients, deploymentId: string, spec: EcsDeploymentSpec): TrafficRouter {
  const { ecs, elb } = clients;
  const cluster = spec.clusterName;
  const service = spec.serviceName;
  const where = `ECS service ${service} in cluster ${cluster}`;

  /** taskSets reads the service's task sets: the one this deployment made, and the others (the original). */
  async function taskSets(): Promise<{ ours?: TaskSet; others: TaskSet[] }> {
    const out = await call('ECS_UPDATE_ERROR', `read the task sets of the ${where}`, () => ecs.send(new DescribeTaskSetsCommand({ cluster, service })));
    const all = (out.taskSets ?? []).filter((t) => t.status !== 'DRAINING');
    const ours = all.find((t) => t.externalId === deploymentId);
    return { ...(ours === undefined ? {} : { ours }), others: all.filter((t) => t !== ours) };
  }

  /** targetGroups resolves the pair's ARNs and tells blue (the original's) from green. */
  async function targetGroups(original: TaskSet | undefined): Promise<{ blue: string; green: string }> {
    const out = await call('ELASTIC_LOAD_BALANCING_INVALID', `find target groups ${spec.targetGroupNames.join(' and ')}`, () => elb.send(new DescribeTargetGroupsCommand({ Names: spec.targetGroupNames })));
    const arnOf = (name: string): string => {
      const arn = out.TargetGroups?.find((g) => g.TargetGroupName === name)?.TargetGroupArn;
      if (arn === undefined) throw new RouterError('ELASTIC_LOAD_BALANCING_INVALID', `Target group ${name} does not exist`);
      return arn;
    };
    const [a, b] = spec.targetGroupNames.map(arnOf) as [string, string];
    const originalGroup = original?.loadBalancers?.[0]?.targetGroupArn;
    return originalGroup === b ? { blue: b, green: a } : { blue: a, green: b };
  }

  /** forward points every listener in `arns` at the weighted target groups. */
  async function forward(arns: string[], groups: Array<{ arn: string; weight: number }>): Promise<void> {
    for (const arn of arns) {
      await call('ELASTIC_LOAD_BALANCING_INVALID', `update listener ${arn}`, () =>
        elb.send(new ModifyListenerCommand({ ListenerArn: arn, DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: groups.map((g) => ({ TargetGroupArn: g.arn, Weight: g.weight })) } }] })),
      );
    }
  }

  /** state reads everything a step needs; the original must still exist. */
  async function state(): Promise<{ ours?: TaskSet; original: TaskSet; blue: string; green: string }> {
    const sets = await taskSets();
    const original = sets.others[0];
    if (original === undefined) throw new RouterError('INVALID_ECS_SERVICE', `The ${where} has no original task set to replace`);
    return { ...(sets.ours === undefined ? {} : { ours: sets.ours }), original, ...(await targetGroups(original)) };
  }

  async function makePrimary(taskSet: TaskSet): Promise<void> {
    if (taskSet.status === 'PRIMARY') return;
    await call('ECS_UPDATE_ERROR', `make task set ${taskSet.id ?? ''} primary in the ${where}`, () => ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster, service, primaryTaskSet: taskSet.taskSetArn! })));
  }

  async function remove(taskSet: TaskSet): Promise<void> {
    await call('ECS_UPDATE_ERROR', `delete task set ${taskSet.id ?? ''} of the ${where}`, () => ecs.send(new DeleteTaskSetCommand({ cluster, service, taskSet: taskSet.taskSetArn!, force: true })));
  }

  return {
    async check() {
      const out = await call('INVALID_ECS_SERVICE', `read the ${where}`, () => ecs.send(new DescribeServicesCommand({ cluster, services: [service] })));
      const svc = out.services?.find((s) => s.serviceName === service);
      if (svc === undefined || svc.status === 'INACTIVE') throw new RouterError('INVALID_ECS_SERVICE', `The ${where} does not exist`);
      if (svc.deploymentController?.type !== 'EXTERNAL') {
        throw new RouterError('INVALID_ECS_SERVICE', `The ${where} uses the ${svc.deploymentController?.type ?? 'ECS'} deployment controller; fleetdeploy replaces task sets itself and needs EXTERNAL`);
      }
      const sets = await taskSets();
      if (sets.others.length !== 1) {
        throw new RouterError('INVALID_ECS_SERVICE', `The ${where} has ${sets.others.length} task sets besides this deployment's; it needs exactly one (the original) — another deployment may be under way`);
      }
      const { blue } = await targetGroups(sets.others[0]);
      const served = sets.others[0]!.loadBalancers?.[0]?.targetGroupArn;
      if (served !== undefined && served !== blue) {
        throw new RouterError('ELASTIC_LOAD_BALANCING_INVALID', `The original task set of the ${where} serves target group ${served}, which is neither of the group's pair ${spec.targetGroupNames.join(' and ')}`);
      }
      const listeners = [...spec.prodListenerArns, ...spec.testListenerArns];
      await call('ELASTIC_LOAD_BALANCING_INVALID', `find listeners ${listeners.join(', ')}`, () => elb.send(new DescribeListenersCommand({ ListenerArns: listeners })));
    },

    async prepare(stage) {
      const s = await state();
      if (stage === 'testTraffic') return forward(spec.testListenerArns, [{ arn: s.green, weight: 100 }]);
      if (s.ours !== undefined) return;
      const svc = (await call('INVALID_ECS_SERVICE', `read the ${where}`, () => ecs.send(new DescribeServicesCommand({ cluster, services: [service] })))).services?.[0];
      const capacity = spec.capacityProviderStrategy;
      await call('ECS_UPDATE_ERROR', `create the replacement task set of the ${where}`, () =>
        ecs.send(
          new CreateTaskSetCommand({
            cluster,
            service,
            taskDefinition: spec.taskDefinition,
            externalId: deploymentId,
            loadBalancers: [{ targetGroupArn: s.green, containerName: spec.containerName, containerPort: spec.containerPort }],
            scale: { unit: 'PERCENT', value: 100 },
            ...(capacity !== undefined ? { capacityProviderStrategy: capacity } : svc?.launchType !== undefined ? { launchType: svc.launchType } : {}),
            ...(spec.platformVersion !== undefined ? { platformVersion: spec.platformVersion } : {}),
            ...(spec.networkConfiguration !== undefined ? { networkConfiguration: { awsvpcConfiguration: spec.networkConfiguration } } : {}),
          }),
        ),
      );
    },

    async shift(weight) {
      const s = await state();
      if (s.ours === undefined) throw new RouterError('ECS_UPDATE_ERROR', `The replacement task set of the ${where} is gone`);
      if (weight < 100) return forward(spec.prodListenerArns, [{ arn: s.blue, weight: 100 - weight }, { arn: s.green, weight }]);
      await forward(spec.prodListenerArns, [{ arn: s.green, weight: 100 }]);
      await makePrimary(s.ours);
    },

    async rollback() {
      const s = await state();
      await forward([...spec.prodListenerArns, ...spec.testListenerArns], [{ arn: s.blue, weight: 100 }]);
      await makePrimary(s.original);
      if (s.ours !== undefined) await remove(s.ours);
    },

    async cleanup() {
      const sets = await taskSets();
      for (const original of sets.others) await remove(original);
    },

    invokeHook: (hookFunction, payload) => invokeHookFunction(clients.lambda, hookFunction, payload),
  };
}
