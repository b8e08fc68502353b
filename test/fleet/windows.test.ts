/**
 * Deployment windows end to end: a real coordinator and two real agents; the windows are set with
 * `fleetdeploy group windows set`, deployments are created with the stock AWS CLI (or scheduled
 * with `fleetdeploy schedule`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CreateDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { APP, BUCKET, FleetWorld } from './fleet-world.js';
import { probeBundle } from '../harness/bundles.js';
import { expectOneErrorLine, runCli, userEnvironment } from '../harness/cli.js';
import { describeWithTools } from '../harness/system-tools.js';
import { eventually } from '../harness/eventually.js';

/** cronAt is a six-field (seconds first) cron expression for one UTC time, every day. */
const cronAt = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
};

describeWithTools(['aws'], 'deployment windows, set with fleetdeploy and deployed to with the stock AWS CLI', () => {
  const world = new FleetWorld();
  let env: NodeJS.ProcessEnv;
  const fleetdeploy = (args: string[]) => runCli(args, env, world.dir);

  beforeAll(async () => {
    await world.start(2);
    const home = path.join(world.dir, 'home');
    fs.mkdirSync(home);
    env = userEnvironment(world.coordinator, home);
  }, 60_000);
  afterAll(() => world.stop());

  it('queues a deployment created 2 s before its window (Queued, with a message naming the window), then runs it when it opens', async () => {
    await world.group('win-queue', 'CodeDeployDefault.AllAtOnce');
    const key = await world.upload(probeBundle(world.journal('win-queue'), { destination: '/srv/win-queue' }));
    // The window opens 10 s from now (a CLI run takes seconds on a loaded machine); the deployment is
    // created with the SDK 2 s before it opens.
    const opensAt = Math.ceil((Date.now() + 10_000) / 1000) * 1000;
    const set = await fleetdeploy(['group', 'windows', 'set', 'win-queue', '-a', APP, '--window', `${cronAt(opensAt)}; 1; UTC`]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`window: ${cronAt(opensAt)}  for 1 min  (UTC)`);
    await new Promise((resolve) => setTimeout(resolve, opensAt - 2_000 - Date.now()));
    const created = await world.sdk.send(new CreateDeploymentCommand({ applicationName: APP, deploymentGroupName: 'win-queue', revision: { revisionType: 'S3', s3Location: { bucket: BUCKET, key, bundleType: 'zip' } } }));
    expect(Date.now(), 'the deployment was created before its window opened').toBeLessThan(opensAt - 500);
    const id = created.deploymentId!;
    const queued = await world.deployment(id);
    expect(queued.status).toBe('Queued');
    expect(queued.deploymentStatusMessages).toEqual([`fleetdeploy: deployment window: waits for the window "${cronAt(opensAt)}" (UTC, 1 min), which opens at ${new Date(opensAt).toISOString()}`]);
    const status = await fleetdeploy(['status', id]);
    expect(status.stdout).toContain('waits for the window');
    const done = await world.finished(id, 60_000);
    expect(done.status, await world.failures(id)).toBe('Succeeded');
    expect(done.startTime!.getTime()).toBeGreaterThanOrEqual(opensAt);
    expect(done.deploymentStatusMessages).toEqual([]);
    for (const a of world.agents) expect(fs.readFileSync(path.join(a.filesDir, 'srv', 'win-queue', 'index.html'), 'utf8')).toContain('probe v1');
  }, 90_000);

  it('refuses a deployment created outside every window of a refuse-mode group with DeploymentWindowClosedException', async () => {
    await world.group('win-refuse', 'CodeDeployDefault.AllAtOnce');
    const opensAt = Date.now() + 3600_000;
    const set = await fleetdeploy(['group', 'windows', 'set', 'win-refuse', '-a', APP, '--window', `${cronAt(opensAt)}; 5`, '--outside-window', 'refuse']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('outside a window: refuse new deployments');
    const key = await world.upload(probeBundle(world.journal('win-refuse'), { destination: '/srv/win-refuse' }));
    const r = await world.cli(['deploy', 'create-deployment', '--application-name', APP, '--deployment-group-name', 'win-refuse', '--s3-location', `bucket=${BUCKET},key=${key},bundleType=zip`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('An error occurred (DeploymentWindowClosedException) when calling the CreateDeployment operation: deployment group win-refuse refuses deployments outside its deployment windows (outsideWindow: refuse) and no window is open now; the next window');
    expect(r.stderr).toContain(`opens at ${new Date(Math.floor(opensAt / 1000) * 1000).toISOString()}`);
    const listed = await world.cliOk(['deploy', 'list-deployments', '--application-name', APP, '--deployment-group-name', 'win-refuse']);
    expect(listed.json.deployments).toEqual([]);
    // cleared, the same deployment is accepted
    expect((await fleetdeploy(['group', 'windows', 'clear', 'win-refuse', '-a', APP])).code).toBe(0);
    expect((await fleetdeploy(['group', 'windows', 'show', 'win-refuse', '-a', APP])).stdout).toContain('has no deployment windows');
    const id = await world.deploy('win-refuse', key);
    expect((await world.finished(id)).status).toBe('Succeeded');
  }, 90_000);

  it('fleetdeploy schedule has the coordinator create the deployment at the cron time', async () => {
    await world.group('scheduled', 'CodeDeployDefault.AllAtOnce');
    const key = await world.upload(probeBundle(world.journal('scheduled'), { destination: '/srv/scheduled' }));
    const runAt = Math.ceil((Date.now() + 8_000) / 1000) * 1000;
    const r = await fleetdeploy(['schedule', '-a', APP, '-g', 'scheduled', '--cron', cronAt(runAt), '--time-zone', 'UTC', '--s3-location', `s3://${BUCKET}/${key}`, '--description', 'from a schedule']);
    expect(r.code, r.stderr).toBe(0);
    const scheduleId = /Scheduled (s-[0-9a-f-]+):/.exec(r.stdout)?.[1];
    expect(scheduleId, r.stdout).toBeDefined();
    expect(r.stdout).toContain(`at ${new Date(runAt).toISOString().replace('.000Z', 'Z')}`);
    expect((await world.cliOk(['deploy', 'list-deployments', '--application-name', APP, '--deployment-group-name', 'scheduled'])).json.deployments).toEqual([]);
    const listed = await eventually(async () => {
      const out = JSON.parse((await fleetdeploy(['schedules', '--output', 'json'])).stdout) as { schedules: { scheduleId: string; status: string; deploymentId?: string }[] };
      const mine = out.schedules.find((s) => s.scheduleId === scheduleId);
      if (mine?.status !== 'Created') throw new Error(`schedule ${scheduleId} is ${mine?.status}`);
      return mine;
    }, 30_000, 250);
    const d = await world.finished(listed.deploymentId!);
    expect(d.status, await world.failures(listed.deploymentId!)).toBe('Succeeded');
    expect(d.description).toBe('from a schedule');
    expect(d.createTime!.getTime()).toBeGreaterThanOrEqual(runAt);
    expect((await fleetdeploy(['unschedule', scheduleId!])).code).toBe(0);
    expectOneErrorLine(await fleetdeploy(['unschedule', scheduleId!]), /DeploymentScheduleDoesNotExistException: no deployment schedule s-/);
  }, 90_000);

  it('fleetdeploy group windows set names what is wrong in one error line', async () => {
    await world.group('win-bad', 'CodeDeployDefault.AllAtOnce');
    expectOneErrorLine(await fleetdeploy(['group', 'windows', 'set', 'win-bad', '-a', APP, '--window', 'nightly; 60']), /InvalidDeploymentWindowsException: deploymentWindows\.windows\[0\]\.cron "nightly" is not a valid cron expression/);
    expectOneErrorLine(await fleetdeploy(['group', 'windows', 'set', 'win-bad', '-a', APP, '--window', '0 1 * * *; 60; Paris']), /deploymentWindows\.windows\[0\]\.timeZone "Paris" is not an IANA time zone name/);
    expectOneErrorLine(await fleetdeploy(['group', 'windows', 'set', 'win-bad', '-a', APP, '--window', '0 1 * * *']), /--window takes 'CRON; MINUTES\[; TIME_ZONE\]'/);
  }, 60_000);
});
