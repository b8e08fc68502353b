/**
 * The `fleetdeploy` command on an ECS deployment, against a real coordinator whose ECS and load
 * balancer are moto's: `status ID` and `status ID --watch` show the service `cluster:service`, its
 * eight lifecycle events and how the production traffic is split between the blue and green task
 * sets, each weight step as the coordinator applies it. One CodeDeploy minute lasts 300 ms here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from '../harness/system-tools.js';
import { eventually } from '../harness/eventually.js';
import { runCli, userEnvironment, watchUntil } from '../harness/cli.js';
import { EcsWorld, ecsAppSpec } from './ecs-world.js';

const EVENTS = ['BeforeInstall', 'Install', 'AfterInstall', 'AllowTestTraffic', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];

describeWithTools(['moto_server'], 'fleetdeploy status and --watch on an ECS deployment', () => {
  const world = new EcsWorld();
  let env: NodeJS.ProcessEnv;
  let dir: string;

  beforeAll(async () => {
    await world.start({ minuteMs: 300, hookTimeoutSeconds: 30 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-cli-ecs-'));
    env = userEnvironment(world.coordinator, dir);
  }, 120_000);
  afterAll(async () => {
    await world.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const weightsOf = (stdout: string, target: string): string[] =>
    stdout.split('\n').filter((l) => l.startsWith(`${target}  traffic `)).map((l) => l.replace(/^.*[█░] {2}/, ''));

  it('status --watch shows the service, each event and every blue/green weight step; status shows where it ended', async () => {
    // given a linear 10 %-a-minute ECS deployment held in BeforeAllowTraffic until the watcher follows
    const svc = await world.service('cliecs');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes');
    const id = await world.deploy('cliecs', ecsAppSpec(svc.taskDefinitions[1], { BeforeAllowTraffic: 'cliecs-pre' }));
    const watching = watchUntil(['status', id, '--watch'], env, dir, 'events BeforeInstall');
    await watching.reached;
    await world.hook('cliecs-pre', id, 'Succeeded');
    const watch = await watching.done;
    // then: the service and its events, each weight once in order, and the split it ended with
    expect(watch.code, watch.stdout + watch.stderr).toBe(0);
    const lines = watch.stdout.trimEnd().split('\n');
    expect(lines).toContain(`cliecs:cliecs  task sets blue → green; events ${EVENTS.join(', ')}`);
    expect(weightsOf(watch.stdout, 'cliecs:cliecs'), watch.stdout).toEqual(['100 % on blue', ...[10, 20, 30, 40, 50, 60, 70, 80, 90].map((n) => `${100 - n} % on blue, ${n} % on green`), '100 % on green']);
    for (const e of ['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic']) expect(lines.some((l) => new RegExp(`^cliecs:cliecs  ${e} +Succeeded`).test(l)), `${e}\n${watch.stdout}`).toBe(true);
    expect(lines.at(-1)).toMatch(new RegExp(`^Deployment ${id} Succeeded: cliecs:cliecs: 100 % on green in \\d+\\.\\d s$`));
    expect(watch.stdout).not.toMatch(/0 succeeded, 0 failed/);

    const status = await runCli(['status', id], env, dir);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^ {2}target: cliecs:cliecs {2}Succeeded {2}task sets blue → green {2}█{20} {2}100 % on green$/m);
    for (const e of EVENTS) expect(status.stdout).toMatch(new RegExp(`^ {4}${e} +Succeeded`, 'm'));
    expect(status.stdout).not.toMatch(/instances:/);
    const json = await runCli(['status', id, '--output', 'json'], env, dir);
    expect(JSON.parse(json.stdout).ecsTargets[0]).toMatchObject({ targetId: 'cliecs:cliecs', status: 'Succeeded', taskSetsInfo: [{ taskSetLabel: 'Blue', trafficWeight: 0 }, { taskSetLabel: 'Green', trafficWeight: 100 }] });
  }, 90_000);

  it('a deployment stopped in the middle of its shift: the watch shows the traffic going back to blue and exits 1', async () => {
    const svc = await world.service('clistop');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSLinear10PercentEvery3Minutes');
    const id = await world.deploy('clistop', ecsAppSpec(svc.taskDefinitions[1]));
    const watching = watchUntil(['status', id, '--watch'], env, dir, '% on green');
    await watching.reached;
    await eventually(async () => expect((await world.weights(svc, svc.prodListenerArn)).green ?? 0).toBeGreaterThan(0), 20_000, 25);
    await world.codedeploy.send(new StopDeploymentCommand({ deploymentId: id }));
    const watch = await watching.done;
    expect(watch.code, watch.stdout + watch.stderr).toBe(1);
    const weights = weightsOf(watch.stdout, 'clistop:clistop');
    expect(weights.at(-2), watch.stdout).toMatch(/^\d+ % on blue, \d+ % on green$/);
    expect(weights.at(-1), watch.stdout).toBe('100 % on blue');
    expect(watch.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^Deployment ${id} Stopped: clistop:clistop: 100 % on blue in \\d+\\.\\d s \\(.+\\)$`));
  }, 90_000);
});
