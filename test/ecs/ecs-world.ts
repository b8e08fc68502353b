/**
 * EcsWorld: the {@link LambdaWorld} (a real coordinator, moto_server, the proxy that plays hook
 * functions) with an ECS service behind an Application Load Balancer in moto: an EXTERNAL-controller
 * Fargate service whose original task set (task definition revision 1) serves the blue target group, a
 * green target group, a production listener (port 80) and a test listener (port 8080). A watcher
 * polls the production listener and records each change of its forward weights.
 */
import { CreateClusterCommand, CreateServiceCommand, CreateTaskSetCommand, DescribeTaskSetsCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServicePrimaryTaskSetCommand } from '@aws-sdk/client-ecs';
import type { TaskSet } from '@aws-sdk/client-ecs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeListenersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateApplicationCommand, CreateDeploymentGroupCommand } from '@aws-sdk/client-codedeploy';
import { LambdaWorld } from '../lambda/lambda-world.js';

const FAKE_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 };

/** ecsAppSpec is an ECS AppSpec deploying task definition `taskDefinition` with the hooks given (event → function). */
export function ecsAppSpec(taskDefinition: string, hooks: Record<string, string> = {}): string {
  const lines = [
    'version: 0.0',
    'Resources:',
    '  - TargetService:',
    '      Type: AWS::ECS::Service',
    '      Properties:',
    `        TaskDefinition: "${taskDefinition}"`,
    '        LoadBalancerInfo:',
    '          ContainerName: "web"',
    '          ContainerPort: 80',
    '        PlatformVersion: "1.4.0"',
    '        NetworkConfiguration:',
    '          AwsvpcConfiguration:',
    '            Subnets: ["subnet-1234abcd"]',
    '            SecurityGroups: ["sg-1234abcd"]',
    '            AssignPublicIp: "DISABLED"',
  ];
  const events = Object.entries(hooks);
  if (events.length > 0) {
    lines.push('Hooks:');
    for (const [event, fn] of events) lines.push(`  - ${event}: "${fn}"`);
  }
  return lines.join('\n') + '\n';
}

/** Service is one ECS setup in moto. */
export interface Service {
  name: string;
  blueArn: string;
  greenArn: string;
  prodListenerArn: string;
  testListenerArn: string;
  taskDefinitions: [string, string];
}

/** Weights are a listener's forward weights by target group colour (absent = not forwarded to). */
export interface Weights {
  blue?: number;
  green?: number;
  at: number;
}

export class EcsWorld extends LambdaWorld {
  ecs!: ECSClient;
  elb!: ElasticLoadBalancingV2Client;
  private watchers: Array<() => void> = [];

  override async start(opts: { minuteMs: number; hookTimeoutSeconds: number }): Promise<void> {
    await super.start(opts);
    this.ecs = new ECSClient({ ...FAKE_AWS, endpoint: this.moto.url });
    this.elb = new ElasticLoadBalancingV2Client({ ...FAKE_AWS, endpoint: this.moto.url });
  }

  override async startReplicas(opts: { minuteMs: number; hookTimeoutSeconds: number }, database: string, count: number, args: string[] = []): Promise<void> {
    await super.startReplicas(opts, database, count, args);
    this.ecs = new ECSClient({ ...FAKE_AWS, endpoint: this.moto.url });
    this.elb = new ElasticLoadBalancingV2Client({ ...FAKE_AWS, endpoint: this.moto.url });
  }

  override async stop(): Promise<void> {
    for (const w of this.watchers) w();
    await super.stop();
  }

  /** ec2 calls moto's EC2 query API (unsigned: moto routes by the credential scope) and returns the XML. */
  private async ec2(action: string): Promise<string> {
    const res = await fetch(`${this.moto.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0' },
      body: `Action=${action}&Version=2016-11-15`,
    });
    if (!res.ok) throw new Error(`moto ${action}: ${res.status} ${await res.text()}`);
    return res.text();
  }

  /** service makes cluster, service, task definitions 1 and 2, load balancer, target groups and listeners named after `name`. */
  async service(name: string): Promise<Service> {
    const subnets = [...(await this.ec2('DescribeSubnets')).matchAll(/<subnetId>([^<]+)<\/subnetId>/g)].map((m) => m[1]!).slice(0, 2);
    const vpc = /<vpcId>([^<]+)<\/vpcId>/.exec(await this.ec2('DescribeVpcs'))![1]!;
    const lb = (await this.elb.send(new CreateLoadBalancerCommand({ Name: name, Subnets: subnets }))).LoadBalancers![0]!.LoadBalancerArn!;
    const group = async (colour: string) => (await this.elb.send(new CreateTargetGroupCommand({ Name: `${name}-${colour}`, Protocol: 'HTTP', Port: 80, VpcId: vpc, TargetType: 'ip' }))).TargetGroups![0]!.TargetGroupArn!;
    const blueArn = await group('blue');
    const greenArn = await group('green');
    const listener = async (port: number) =>
      (await this.elb.send(new CreateListenerCommand({ LoadBalancerArn: lb, Protocol: 'HTTP', Port: port, DefaultActions: [{ Type: 'forward', TargetGroupArn: blueArn }] }))).Listeners![0]!.ListenerArn!;
    const prodListenerArn = await listener(80);
    const testListenerArn = await listener(8080);
    await this.ecs.send(new CreateClusterCommand({ clusterName: name }));
    const register = async (image: string) =>
      (await this.ecs.send(new RegisterTaskDefinitionCommand({ family: name, containerDefinitions: [{ name: 'web', image, memory: 128, portMappings: [{ containerPort: 80 }] }] }))).taskDefinition!.taskDefinitionArn!;
    const taskDefinitions: [string, string] = [await register('web:v1'), await register('web:v2')];
    await this.ecs.send(new CreateServiceCommand({ cluster: name, serviceName: name, desiredCount: 2, launchType: 'FARGATE', deploymentController: { type: 'EXTERNAL' } }));
    const original = await this.ecs.send(
      new CreateTaskSetCommand({ cluster: name, service: name, taskDefinition: taskDefinitions[0], externalId: 'original', loadBalancers: [{ targetGroupArn: blueArn, containerName: 'web', containerPort: 80 }] }),
    );
    await this.ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: name, service: name, primaryTaskSet: original.taskSet!.taskSetArn! }));
    return { name, blueArn, greenArn, prodListenerArn, testListenerArn, taskDefinitions };
  }

  /** ecsApp makes an ECS application and a group for `svc` deploying with `config`; returns the group name. */
  async ecsApp(svc: Service, config: string, terminationWaitMinutes = 0, group: Record<string, unknown> = {}): Promise<string> {
    const name = svc.name;
    await this.codedeploy.send(new CreateApplicationCommand({ applicationName: name, computePlatform: 'ECS' }));
    await this.codedeploy.send(
      new CreateDeploymentGroupCommand({
        applicationName: name,
        deploymentGroupName: `${name}-group`,
        serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy',
        deploymentConfigName: config,
        deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
        ecsServices: [{ serviceName: name, clusterName: name }],
        loadBalancerInfo: {
          targetGroupPairInfoList: [
            { targetGroups: [{ name: `${name}-blue` }, { name: `${name}-green` }], prodTrafficRoute: { listenerArns: [svc.prodListenerArn] }, testTrafficRoute: { listenerArns: [svc.testListenerArn] } },
          ],
        },
        blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: terminationWaitMinutes } },
        ...group,
      }),
    );
    return `${name}-group`;
  }

  /** weights reads a listener's forward weights now. */
  async weights(svc: Service, listenerArn: string): Promise<Weights> {
    const l = (await this.elb.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }))).Listeners![0]!;
    const action = l.DefaultActions![0]!;
    const groups = action.ForwardConfig?.TargetGroups ?? (action.TargetGroupArn === undefined ? [] : [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }]);
    const out: Weights = { at: Date.now() };
    for (const g of groups) {
      const weight = groups.length === 1 ? 100 : (g.Weight ?? 0);
      if (g.TargetGroupArn === svc.blueArn) out.blue = weight;
      else if (g.TargetGroupArn === svc.greenArn) out.green = weight;
    }
    return out;
  }

  /** watch polls the production listener every 20 ms and returns the weights seen, each change once. */
  watch(svc: Service): Weights[] {
    const seen: Weights[] = [];
    let running = true;
    this.watchers.push(() => (running = false));
    void (async () => {
      while (running) {
        try {
          const w = await this.weights(svc, svc.prodListenerArn);
          const last = seen.at(-1);
          if (last === undefined || last.blue !== w.blue || last.green !== w.green) seen.push(w);
        } catch {
          // moto stopping at the end of the suite
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    return seen;
  }

  /** taskSets lists the service's task sets as externalId:status. */
  async taskSets(svc: Service): Promise<TaskSet[]> {
    return (await this.ecs.send(new DescribeTaskSetsCommand({ cluster: svc.name, service: svc.name }))).taskSets ?? [];
  }
}
