/**
 * An ECS deployment on two coordinator replicas sharing one PostgreSQL database (issue 13), against
 * moto_server: the replica holding the deployment's lease shifts the production listener; killed
 * mid-shift, the other takes the deployment over from its traffic journal and finishes it, with the
 * replacement task set primary and the original removed. One CodeDeploy minute lasts 1 s here, a
 * deployment's lease 2 s.
 */
import { CreateDeploymentCommand, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from '../harness/system-tools.js';
import { eventually } from '../harness/eventually.js';
import { usePostgres } from '../harness/postgres.js';
import type { Weights } from './ecs-world.js';
import { EcsWorld, ecsAppSpec } from './ecs-world.js';

const MINUTE_MS = 1000;

describeWithTools(['postgres', 'moto_server'], 'an ECS deployment on two replicas: the lease holder shifts, another takes over', () => {
  const server = usePostgres();
  const world = new EcsWorld();

  beforeAll(async () => {
    const database = await server().freshDatabase();
    await world.startReplicas({ minuteMs: MINUTE_MS, hookTimeoutSeconds: 60 }, database, 2, ['--deployment-lease-seconds', '2']);
  }, 120_000);
  afterAll(async () => {
    await world.stop();
  });

  const greens = (seen: Weights[]): number[] => seen.map((w) => w.green ?? 0);

  it('the owner is killed mid-shift: the other replica resumes from the journal and finishes; green only ever grows, the original is removed', async () => {
    const svc = await world.service('shifted');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes');
    const seen = world.watch(svc);
    // Created through the second replica, which claims its lease as it creates it.
    const id = (await world.clientOf(world.replicas[1]!).send(new CreateDeploymentCommand({ applicationName: 'shifted', deploymentGroupName: 'shifted-group', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ecsAppSpec(svc.taskDefinitions[1]) } } }))).deploymentId!;
    const owner = await eventually(async () => {
      const owners: number[] = [];
      for (const [k, r] of world.replicas.entries()) {
        const health = (await (await fetch(`${r.apiUrl}/healthz`)).json()) as { owns?: string[] };
        if (health.owns?.some((name) => name.includes(id)) === true) owners.push(k);
      }
      if (owners.length !== 1) throw new Error(`replicas owning ${id}: ${JSON.stringify(owners)}`);
      return owners[0]!;
    }, 10_000, 100);
    const other = world.replicas[1 - owner]!;
    const client = world.clientOf(other);
    await eventually(() => expect(greens(seen).at(-1)).toBeGreaterThanOrEqual(30), 30_000, 20);
    const before = (await client.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
    expect(before.status, 'the deployment ended before its owner could be killed: the test proves nothing').toBe('InProgress');
    await world.replicas[owner]!.stop('SIGKILL');
    const d: DeploymentInfo = await eventually(async () => {
      const info = (await client.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
      if (!['Succeeded', 'Failed', 'Stopped'].includes(info.status ?? '')) throw new Error(`deployment ${id} is still ${info.status}`);
      return info;
    }, 60_000, 100);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    expect(other.logs().split('\n').some((l) => l.includes('traffic deployment taken over') && l.includes(id))).toBe(true);
    await eventually(() => expect(greens(seen).at(-1)).toBe(100));
    // Each weight the watcher saw is the next step or a later one (it polls; it may miss one).
    const seenGreens = greens(seen);
    for (let i = 1; i < seenGreens.length; i++) expect(seenGreens[i]!, seenGreens.join(', ')).toBeGreaterThan(seenGreens[i - 1]!);
    const sets = await world.taskSets(svc);
    expect(sets.map((t) => [t.externalId, t.status])).toEqual([[id, 'PRIMARY']]);
  }, 120_000);
});
