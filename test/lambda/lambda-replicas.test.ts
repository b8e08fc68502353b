/**
 * Lambda deployments on two coordinator replicas sharing one PostgreSQL database (issue 13), against
 * moto_server behind the recording Lambda proxy: the replica holding the deployment's lease shifts
 * its alias; when it is killed or paused mid-shift, the other takes the deployment over from its
 * traffic journal and finishes it, and every step reaches the alias once, in order. One CodeDeploy
 * minute lasts 1 s here, a deployment's lease 2 s.
 */
import { CreateApplicationCommand, CreateDeploymentCommand, CreateDeploymentGroupCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import type { CodeDeployClient, DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from '../harness/system-tools.js';
import { eventually } from '../harness/eventually.js';
import { usePostgres } from '../harness/postgres.js';
import type { CoordinatorProcess } from '../harness/coordinator.js';
import { LambdaWorld, lambdaAppSpec } from './lambda-world.js';

const MINUTE_MS = 1000;
const LINEAR = 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute';
/** Every step of LINEAR as the alias sees it: the target's weight, 1 once it is the alias's version. */
const ALL_STEPS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

describeWithTools(['postgres', 'moto_server'], 'Lambda deployments on two replicas: the lease holder shifts, another takes over', () => {
  const server = usePostgres();
  const world = new LambdaWorld();

  beforeAll(async () => {
    const database = await server().freshDatabase();
    await world.startReplicas({ minuteMs: MINUTE_MS, hookTimeoutSeconds: 60 }, database, 2, ['--deployment-lease-seconds', '2']);
  }, 120_000);
  afterAll(async () => {
    for (const r of world.replicas) r.child.kill('SIGCONT'); // a paused one would never take its SIGTERM
    await world.stop();
  });

  /** weights are the target version's weights the alias was given, in order. */
  const weights = (fn: string): number[] => world.updates(fn).map((u) => (u.version === '2' ? 1 : (u.weights['2'] ?? 0)));

  /** ownerOf waits for the one replica whose /healthz owns the deployment's lease; returns its index. */
  async function ownerOf(deploymentId: string): Promise<number> {
    return eventually(async () => {
      const owners: number[] = [];
      for (const [k, r] of world.replicas.entries()) {
        const health = (await (await fetch(`${r.apiUrl}/healthz`)).json()) as { owns?: string[] };
        if (health.owns?.some((name) => name.includes(deploymentId)) === true) owners.push(k);
      }
      if (owners.length !== 1) throw new Error(`replicas owning ${deploymentId}: ${JSON.stringify(owners)}`);
      return owners[0]!;
    }, 10_000, 100);
  }

  async function finished(client: CodeDeployClient, id: string): Promise<DeploymentInfo> {
    return eventually(async () => {
      const d = (await client.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
      if (!['Succeeded', 'Failed', 'Stopped'].includes(d.status ?? '')) throw new Error(`deployment ${id} is still ${d.status}`);
      return d;
    }, 60_000, 100);
  }

  /** midShift waits for `steps` alias updates and then a third of a step more, so the last one is recorded too. */
  async function midShift(fn: string, client: CodeDeployClient, id: string, steps: number): Promise<void> {
    await eventually(() => expect(world.updates(fn).length).toBeGreaterThanOrEqual(steps), 30_000, 20);
    await new Promise((r) => setTimeout(r, MINUTE_MS / 3));
    const d = (await client.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
    expect(d.status, 'the deployment ended before its owner could be stopped: the test proves nothing').toBe('InProgress');
  }

  const takenOver = (r: CoordinatorProcess, id: string): boolean => r.logs().split('\n').some((l) => l.includes('traffic deployment taken over') && l.includes(id));

  it('the owner is killed mid-shift: the other replica resumes from the journal and finishes, every step once; a hook reported to the other replica counts', async () => {
    await world.fn('killed');
    await world.app('killed', LINEAR);
    // Created through the second replica, which claims its lease as it creates it.
    const id = (await world.clientOf(world.replicas[1]!).send(new CreateDeploymentCommand({ applicationName: 'killed', deploymentGroupName: 'killed-group', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: lambdaAppSpec('killed', { before: 'killed-pre' }) } } }))).deploymentId!;
    const owner = await ownerOf(id);
    const other = world.replicas[1 - owner]!;
    // The hook's report goes to the replica that does not drive the deployment: the owner acts on it.
    const call = await world.invoked('killed-pre', id);
    await world.clientOf(other).send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: id, lifecycleEventHookExecutionId: call.payload.LifecycleEventHookExecutionId, status: 'Succeeded' }));
    await midShift('killed', world.clientOf(other), id, 3);
    await world.replicas[owner]!.stop('SIGKILL');
    const d = await finished(world.clientOf(other), id);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    expect(takenOver(other, id)).toBe(true);
    expect(weights('killed')).toEqual(ALL_STEPS);
    expect(await world.alias('killed')).toEqual({ version: '2', weights: {} });
    await world.replaceReplica(owner);
  }, 120_000);

  it('the owner is paused past its lease: the other finishes it, and the paused one, resumed, shifts nothing more', async () => {
    await world.fn('paused');
    await world.app('paused', LINEAR);
    const id = (await world.clientOf(world.replicas[1]!).send(new CreateDeploymentCommand({ applicationName: 'paused', deploymentGroupName: 'paused-group', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: lambdaAppSpec('paused') } } }))).deploymentId!;
    const owner = await ownerOf(id);
    const stale = world.replicas[owner]!;
    const other = world.replicas[1 - owner]!;
    await midShift('paused', world.clientOf(other), id, 3);
    stale.child.kill('SIGSTOP');
    // The other replica takes it over once the lease lapses and shifts on; then the paused one wakes
    // with its timers overdue, mid-deployment.
    await eventually(() => expect(weights('paused').length).toBeGreaterThanOrEqual(6), 30_000, 20);
    stale.child.kill('SIGCONT');
    const d = await finished(world.clientOf(other), id);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    expect(takenOver(other, id)).toBe(true);
    // A few steps' time for the resumed replica to do what it would.
    await new Promise((r) => setTimeout(r, 3 * MINUTE_MS));
    expect(weights('paused')).toEqual(ALL_STEPS);
    expect(await world.alias('paused')).toEqual({ version: '2', weights: {} });
  }, 120_000);

  it('refuses a Server blue/green deployment on a replica, naming the HAProxy socket it would need', async () => {
    const client = world.codedeploy;
    await client.send(new CreateApplicationCommand({ applicationName: 'web' }));
    await client.send(new CreateDeploymentGroupCommand({
      applicationName: 'web', deploymentGroupName: 'bg', serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy',
      onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'web', Type: 'KEY_AND_VALUE' }],
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' }, loadBalancerInfo: { targetGroupInfoList: [{ name: 'web' }] },
    }));
    const s3 = new S3Client({ endpoint: world.coordinator.apiUrl, region: 'us-east-1', credentials: world.coordinator.credentials, forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'web-revisions' }));
    await s3.send(new PutObjectCommand({ Bucket: 'web-revisions', Key: 'web.zip', Body: 'not read: refused before' }));
    const refused = await client.send(new CreateDeploymentCommand({ applicationName: 'web', deploymentGroupName: 'bg', revision: { revisionType: 'S3', s3Location: { bucket: 'web-revisions', key: 'web.zip', bundleType: 'zip' } } })).catch((err: Error) => err);
    expect(refused).toMatchObject({ name: 'UnsupportedActionForDeploymentTypeException', message: expect.stringContaining('HAProxy runtime socket (haproxy_socket) of one coordinator host') });
  }, 60_000);
});
