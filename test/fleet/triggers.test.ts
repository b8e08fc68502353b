/**
 * Triggers end to end: a real coordinator and real agents; webhook receivers are node HTTP servers
 * in this test, and moto in server mode plays SNS (its topic delivers to an HTTP subscription on
 * loopback, as SNS does). Retries back off from 0.2 s here (5 s by default).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freeLoopbackPort } from '@fleetdeploy/shared';
import { FleetWorld } from './fleet-world.js';
import { probeBundle } from '../harness/bundles.js';
import { describeWithTools } from '../harness/system-tools.js';
import { eventually } from '../harness/eventually.js';
import type { MotoServer } from '../../packages/coordinator/src/testing/moto-server.js';
import { startMotoServer } from '../../packages/coordinator/src/testing/moto-server.js';
import { verifySignature } from '../../packages/coordinator/src/triggers/webhook-signature.js';

const TAGS = ['--on-premises-instance-tag-filters', 'Key=env,Value=sim,Type=KEY_AND_VALUE'];
const SECRET = 'hook-secret-1';
const EVENTS = ['DeploymentStart', 'DeploymentSuccess', 'DeploymentFailure', 'InstanceStart', 'InstanceSuccess', 'InstanceFailure'];

interface Request {
  eventId: string;
  signature?: string;
  body: string;
  status: number;
}

/** Receiver is a webhook endpoint that fails the first `failFirst` attempts of each event id. */
class Receiver {
  readonly requests: Request[] = [];
  private server?: http.Server;
  private readonly tries = new Map<string, number>();
  constructor(private readonly failFirst = 0) {}

  async listen(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        const eventId = String(req.headers['x-fleetdeploy-event-id']);
        const n = (this.tries.get(eventId) ?? 0) + 1;
        this.tries.set(eventId, n);
        const status = n <= this.failFirst ? 503 : 200;
        this.requests.push({ eventId, ...(req.headers['x-fleetdeploy-signature'] === undefined ? {} : { signature: String(req.headers['x-fleetdeploy-signature']) }), body, status });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/codedeploy`;
  }

  /** accepted is each event id's body as accepted (2xx), deduplicated by event id, as a receiver would. */
  accepted(): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    for (const r of this.requests) if (r.status === 200 && !out.has(r.eventId)) out.set(r.eventId, JSON.parse(r.body) as Record<string, unknown>);
    return out;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** eventsOf lists the accepted notifications as "<status> <instance or deployment>" sorted, for comparison. */
function kinds(bodies: Iterable<Record<string, unknown>>): string[] {
  return [...bodies].map((b) => (b.instanceStatus !== undefined ? `instance ${String(b.instanceId).split('/').pop()} ${String(b.instanceStatus)}` : `deployment ${String(b.status)}`)).sort();
}

const EXPECTED_SUCCESS = ['deployment CREATED', 'deployment SUCCEEDED', 'instance sim-1 InProgress', 'instance sim-1 Succeeded', 'instance sim-2 InProgress', 'instance sim-2 Succeeded'];

describeWithTools(['aws'], 'webhook triggers driven by the stock AWS CLI', () => {
  const world = new FleetWorld();
  const configFile = path.join(world.dir, 'coordinator.yml');
  const args = ['--config', configFile];

  beforeAll(async () => {
    fs.writeFileSync(configFile, ['trigger_retry_base_seconds: 0.2', 'trigger_retry_max_seconds: 1', 'trigger_max_attempts: 50', 'webhook_secrets:', `  hook: ${SECRET}`, ''].join('\n'));
    await world.start(2, args);
  }, 120_000);
  afterAll(async () => {
    await world.stop();
  });

  async function group(name: string, url: string): Promise<void> {
    await world.group(name, 'CodeDeployDefault.AllAtOnce', [...TAGS, '--trigger-configurations', JSON.stringify([{ triggerName: 'hook', triggerTargetArn: url, triggerEvents: EVENTS }])]);
  }

  it('a receiver failing the first 3 attempts of each event still gets each event exactly once after dedup by event id, signed', async () => {
    const receiver = new Receiver(3);
    await group('g-flaky', await receiver.listen());
    const id = await world.deploy('g-flaky', await world.upload(probeBundle(world.journal('flaky'), { destination: '/srv/flaky' })));
    expect((await world.finished(id)).status, await world.failures(id)).toBe('Succeeded');
    const accepted = await eventually(() => {
      const got = receiver.accepted();
      if (got.size < EXPECTED_SUCCESS.length) throw new Error(`${got.size} of ${EXPECTED_SUCCESS.length} events accepted`);
      return got;
    }, 30_000, 100);
    expect(kinds(accepted.values())).toEqual(EXPECTED_SUCCESS);
    // every event was tried 4 times: 3 refused, then accepted once and never sent again
    await new Promise((r) => setTimeout(r, 1_500));
    for (const eventId of accepted.keys()) expect(receiver.requests.filter((r) => r.eventId === eventId).map((r) => r.status)).toEqual([503, 503, 503, 200]);
    // each request is signed with the trigger's secret, and the bodies are CodeDeploy's
    for (const r of receiver.requests) expect(verifySignature(r.body, SECRET, r.signature)).toBe(true);
    const done = [...accepted.values()].find((b) => b.status === 'SUCCEEDED')!;
    expect(done).toMatchObject({ region: 'us-east-1', accountId: '000000000000', eventTriggerName: 'hook', applicationName: 'fleet-app', deploymentId: id, deploymentGroupName: 'g-flaky', status: 'SUCCEEDED' });
    expect(JSON.parse(done.deploymentOverview as string)).toMatchObject({ Succeeded: '2', Failed: '0' });
    const instance = [...accepted.values()].find((b) => b.instanceStatus === 'Succeeded')!;
    expect(instance.instanceId).toMatch(/^arn:aws:codedeploy:us-east-1:000000000000:instance\/sim-[12]$/);
    expect((instance.lifecycleEvents as { LifecycleEvent: string; LifecycleEventStatus: string }[]).find((e) => e.LifecycleEvent === 'BeforeInstall')?.LifecycleEventStatus).toBe('Succeeded');
    await receiver.close();
  }, 90_000);

  it('a target that is down or never answers does not hold up deployments: they take as long as without triggers', async () => {
    // a receiver that accepts connections and never answers (each attempt waits out its 10 s timeout),
    // and one where nothing listens
    const hanging = http.createServer(() => undefined);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    await group('g-hanging', `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/codedeploy`);
    await group('g-down', `http://127.0.0.1:${await freeLoopbackPort()}/codedeploy`);
    await world.group('g-plain', 'CodeDeployDefault.AllAtOnce', TAGS);
    const key = await world.upload(probeBundle(world.journal('timing'), { destination: '/srv/timing' }));
    // interleaved, three each; durations as the coordinator recorded them
    const seconds: Record<string, number[]> = { 'g-plain': [], 'g-hanging': [], 'g-down': [] };
    for (let round = 0; round < 3; round++) {
      for (const g of Object.keys(seconds)) {
        const id = await world.deploy(g, key, ['--file-exists-behavior', 'OVERWRITE']);
        const d = await world.finished(id, 30_000);
        expect(d.status, await world.failures(id)).toBe('Succeeded');
        seconds[g]!.push((d.completeTime!.getTime() - d.createTime!.getTime()) / 1000);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    expect(median(seconds['g-hanging']!), JSON.stringify(seconds)).toBeLessThan(median(seconds['g-plain']!) * 1.5);
    expect(median(seconds['g-down']!), JSON.stringify(seconds)).toBeLessThan(median(seconds['g-plain']!) * 1.5);
    // their notifications are still waiting in the outbox, counted in /metrics
    const metrics = await (await fetch(`${world.coordinator.apiUrl}/metrics`)).text();
    const pending = Number(/^fleetdeploy_trigger_notifications\{state="pending"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(pending).toBeGreaterThanOrEqual(2 * 3 * EXPECTED_SUCCESS.length);
    hanging.closeAllConnections();
    hanging.close();
  }, 120_000);

  it('a coordinator killed (SIGKILL) after the events and before their delivery delivers them after it restarts', async () => {
    // given a receiver that is down while a deployment runs and ends
    const port = await freeLoopbackPort();
    await group('g-killed', `http://127.0.0.1:${port}/codedeploy`);
    const id = await world.deploy('g-killed', await world.upload(probeBundle(world.journal('killed'), { destination: '/srv/killed' })));
    expect((await world.finished(id)).status, await world.failures(id)).toBe('Succeeded');
    // when the coordinator is killed before it could deliver, and starts again with the receiver up
    await world.coordinator.stop('SIGKILL');
    const receiver = new Receiver();
    await receiver.listen(port);
    await world.restartCoordinator({ args });
    // then every event of the deployment arrives
    const accepted = await eventually(() => {
      const got = [...receiver.accepted().values()].filter((b) => b.deploymentId === id);
      if (got.length < EXPECTED_SUCCESS.length) throw new Error(`${got.length} of ${EXPECTED_SUCCESS.length} events accepted`);
      return got;
    }, 30_000, 100);
    expect(kinds(accepted)).toEqual(EXPECTED_SUCCESS);
    await receiver.close();
  }, 90_000);
});

describeWithTools(['aws', 'moto_server'], 'SNS triggers, with moto as SNS', () => {
  const world = new FleetWorld();
  let moto: MotoServer;
  const subscriber = new http.Server();
  const envelopes: Record<string, string>[] = [];

  beforeAll(async () => {
    moto = await startMotoServer();
    subscriber.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        envelopes.push(JSON.parse(body) as Record<string, string>);
        res.end();
      });
    });
    await new Promise<void>((r) => subscriber.listen(0, '127.0.0.1', r));
    const configFile = path.join(world.dir, 'coordinator.yml');
    fs.writeFileSync(configFile, 'trigger_retry_base_seconds: 0.2\n');
    await world.start(1, ['--config', configFile], {
      AWS_ENDPOINT_URL_SNS: moto.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  }, 180_000);
  afterAll(async () => {
    await world.stop();
    await moto?.stop();
    subscriber.closeAllConnections();
    subscriber.close();
  });

  it('a trigger on an SNS topic publishes CodeDeploy\'s message with CodeDeploy\'s subject', async () => {
    const sns = new SNSClient({ endpoint: moto.url, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 });
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'deployments' }))).TopicArn!;
    await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'http', Endpoint: `http://127.0.0.1:${(subscriber.address() as AddressInfo).port}/sns` }));
    await world.group('g-sns', 'CodeDeployDefault.AllAtOnce', [...TAGS, '--trigger-configurations', JSON.stringify([{ triggerName: 'to-sns', triggerTargetArn: topic, triggerEvents: ['DeploymentSuccess', 'InstanceSuccess'] }])]);
    const id = await world.deploy('g-sns', await world.upload(probeBundle(world.journal('sns'), { destination: '/srv/sns' })));
    expect((await world.finished(id)).status, await world.failures(id)).toBe('Succeeded');
    const notifications = await eventually(() => {
      const got = envelopes.filter((e) => e.Type === 'Notification' && e.TopicArn === topic);
      if (got.length < 2) throw new Error(`${got.length} of 2 notifications`);
      return got;
    }, 30_000, 100);
    const deployment = notifications.find((n) => JSON.parse(n.Message!).status !== undefined)!;
    expect(deployment.Subject).toBe(`SUCCEEDED: AWS CodeDeploy ${id} in us-east-1 to fleet-app`);
    const message = JSON.parse(deployment.Message!) as Record<string, unknown>;
    expect(Object.keys(message).sort()).toEqual(['accountId', 'applicationName', 'completeTime', 'createTime', 'deploymentGroupName', 'deploymentId', 'deploymentOverview', 'eventTriggerName', 'region', 'status']);
    expect(message).toMatchObject({ region: 'us-east-1', eventTriggerName: 'to-sns', deploymentId: id, deploymentGroupName: 'g-sns', status: 'SUCCEEDED' });
    expect(message.createTime).toMatch(/^\d+\.\d{3}$/);
    expect(JSON.parse(message.deploymentOverview as string)).toMatchObject({ Succeeded: '1' });
    const instance = JSON.parse(notifications.find((n) => n !== deployment)!.Message!) as Record<string, unknown>;
    expect(Object.keys(instance).sort()).toEqual(['accountId', 'deploymentId', 'eventTriggerName', 'instanceId', 'instanceStatus', 'lastUpdatedAt', 'lifecycleEvents', 'region']);
    expect(instance).toMatchObject({ instanceStatus: 'Succeeded', instanceId: 'arn:aws:codedeploy:us-east-1:000000000000:instance/sim-1' });
    expect(notifications).toHaveLength(2);
  }, 120_000);
});
