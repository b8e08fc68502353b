/**
 * Alarm monitoring end to end: a real coordinator and three real agents, with moto in server mode as
 * CloudWatch. The coordinator finds moto the way any AWS SDK client finds an endpoint, through
 * AWS_ENDPOINT_URL_CLOUDWATCH in its environment; the test makes alarms with PutMetricAlarm and flips
 * them with SetAlarmState while deployments run. Alarms are read every second here (15 s by default).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetWorld, statusesOf } from './fleet-world.js';
import { probeBundle, startsIn } from '../harness/bundles.js';
import { describeWithTools } from '../harness/system-tools.js';
import type { MotoServer } from '../../packages/coordinator/src/testing/moto-server.js';
import { MOTO_MISSING, MOTO_SERVER, startMotoServer } from '../../packages/coordinator/src/testing/moto-server.js';

const TAGS = ['--on-premises-instance-tag-filters', 'Key=env,Value=sim,Type=KEY_AND_VALUE'];
const ALL_SKIPPED = { 'sim-1': 'Skipped', 'sim-2': 'Skipped', 'sim-3': 'Skipped' };

// FleetWorld drives the coordinator with the stock AWS CLI (a Debian package, system-tools.ts); moto_server
// is a pip package, so its absence is only said in the suite's name.
describeWithTools(['aws'], 'alarms driven by the stock AWS CLI', () => describe.skipIf(MOTO_SERVER === undefined)(`with moto as CloudWatch${MOTO_SERVER === undefined ? ` (skipped: ${MOTO_MISSING})` : ''}`, () => {
  const world = new FleetWorld();
  let moto: MotoServer;
  let cloudwatch: CloudWatchClient;

  beforeAll(async () => {
    moto = await startMotoServer();
    cloudwatch = new CloudWatchClient({ endpoint: moto.url, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 });
    await world.start(3, ['--alarm-poll-interval-seconds', '1'], {
      AWS_ENDPOINT_URL_CLOUDWATCH: moto.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  }, 180_000); // moto_server alone takes seconds to start on a busy machine
  afterAll(async () => {
    await world.stop();
    await moto?.stop();
  });

  /** alarm makes a metric alarm in moto, in `state`. */
  async function alarm(name: string, state: 'OK' | 'ALARM' = 'OK'): Promise<void> {
    await cloudwatch.send(new PutMetricAlarmCommand({ AlarmName: name, Namespace: 'fleetdeploy/test', MetricName: name, Statistic: 'Average', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }));
    await setAlarm(name, state);
  }
  async function setAlarm(name: string, state: 'OK' | 'ALARM'): Promise<void> {
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: 'set by the test' }));
  }

  /** group creates a OneAtATime deployment group watching `alarms`, with the AWS CLI. */
  async function group(name: string, alarms: string[], opts: { ignorePollAlarmFailure?: boolean; rollbackOnAlarm?: boolean } = {}): Promise<void> {
    const alarmConfiguration = { enabled: true, ignorePollAlarmFailure: opts.ignorePollAlarmFailure ?? false, alarms: alarms.map((n) => ({ name: n })) };
    await world.group(name, 'CodeDeployDefault.OneAtATime', [
      ...TAGS,
      '--alarm-configuration', JSON.stringify(alarmConfiguration),
      ...(opts.rollbackOnAlarm ? ['--auto-rollback-configuration', 'enabled=true,events=DEPLOYMENT_STOP_ON_ALARM'] : []),
    ]);
  }

  /**
   * slowDeployment gives group `g-<name>` one alarm, `<name>-cpu` (OK), deploys a bundle whose
   * BeforeInstall takes 20 s on each host, and returns once sim-1 is in it.
   */
  async function slowDeployment(name: string): Promise<{ id: string; journal: string; alarmName: string }> {
    const alarmName = `${name}-cpu`;
    await alarm(alarmName);
    await group(`g-${name}`, [alarmName]);
    const journal = world.journal(name);
    const id = await world.deploy(`g-${name}`, await world.upload(probeBundle(journal, { sleepSeconds: 20, destination: `/srv/${name}` })));
    await world.running(id, 'sim-1');
    return { id, journal, alarmName };
  }

  it('an alarm going into ALARM mid-deployment stops it with ALARM_ACTIVE: the running event is cancelled and no other host starts', async () => {
    // given a group watching alarm mid-cpu, and a deployment whose BeforeInstall takes 20 s on each host
    const { id, journal, alarmName } = await slowDeployment('mid');
    // when the alarm fires
    await setAlarm(alarmName, 'ALARM');
    // then the deployment stops within seconds, as CodeDeploy stops it
    const d = await world.finished(id, 30_000);
    expect(d.status, await world.failures(id)).toBe('Stopped');
    expect(d.errorInformation).toEqual({ code: 'ALARM_ACTIVE', message: 'Stopped by alarm monitoring: CloudWatch reports alarm mid-cpu in the ALARM state' });
    expect(statusesOf(await world.targets(id))).toEqual({ 'sim-1': 'Failed', 'sim-2': 'Skipped', 'sim-3': 'Skipped' });
    expect(startsIn(journal)).toEqual({ 'sim-1': 1 });
    expect(d.rollbackInfo).toBeUndefined();
  }, 90_000);

  it('with DEPLOYMENT_STOP_ON_ALARM, the stopped deployment is followed by a rollback to the last good revision', async () => {
    // given a group that deployed v1 successfully while its alarm was OK
    await alarm('rb-errors');
    await group('g-rollback', ['rb-errors'], { rollbackOnAlarm: true });
    const v1 = await world.upload(probeBundle(world.journal('rb-v1'), { destination: '/srv/rollback', version: 'v1' }));
    const first = await world.deploy('g-rollback', v1);
    expect((await world.finished(first)).status, await world.failures(first)).toBe('Succeeded');
    // when v2 is deployed and the alarm fires while sim-1 installs it
    const id = await world.deploy('g-rollback', await world.upload(probeBundle(world.journal('rb-v2'), { sleepSeconds: 20, destination: '/srv/rollback', version: 'v2' })), ['--file-exists-behavior', 'OVERWRITE']);
    await world.running(id, 'sim-1');
    await setAlarm('rb-errors', 'ALARM');
    // then v2 stops, and a rollback deployment of v1 runs to the end although the alarm still fires
    const stopped = await world.finished(id, 30_000);
    expect(stopped.status).toBe('Stopped');
    expect(stopped.errorInformation?.code).toBe('ALARM_ACTIVE');
    const rollbackId = stopped.rollbackInfo?.rollbackDeploymentId;
    expect(rollbackId, JSON.stringify(stopped.rollbackInfo)).toBeDefined();
    const rollback = await world.finished(rollbackId!, 60_000);
    expect(rollback.status, await world.failures(rollbackId!)).toBe('Succeeded');
    expect(rollback.creator).toBe('codeDeployRollback');
    expect(rollback.revision?.s3Location?.key).toBe(v1);
    expect(rollback.rollbackInfo?.rollbackTriggeringDeploymentId).toBe(id);
    for (const a of world.agents) expect(fs.readFileSync(path.join(a.filesDir, 'srv/rollback/index.html'), 'utf8')).toContain('probe v1');
  }, 150_000);

  it('an alarm already in ALARM when the deployment is created stops it before any host is touched', async () => {
    await alarm('pre-latency', 'ALARM');
    await group('g-pre', ['pre-latency']);
    const journal = world.journal('pre');
    const id = await world.deploy('g-pre', await world.upload(probeBundle(journal, { destination: '/srv/pre' })));
    const d = await world.finished(id, 30_000);
    expect(d.status).toBe('Stopped');
    expect(d.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(d.errorInformation?.message).toContain('pre-latency');
    const targets = await world.targets(id);
    expect(statusesOf(targets)).toEqual(ALL_SKIPPED);
    expect(Object.values(targets).every((t) => t.lifecycleEvents!.every((e) => e.status === 'Skipped'))).toBe(true);
    expect(startsIn(journal)).toEqual({});
  }, 60_000);

  it('an alarm name CloudWatch does not know stops the deployment when ignorePollAlarmFailure is false', async () => {
    await group('g-typo', ['no-such-alarm']);
    const id = await world.deploy('g-typo', await world.upload(probeBundle(world.journal('typo'), { destination: '/srv/typo' })));
    const d = await world.finished(id, 30_000);
    expect(d.status).toBe('Stopped');
    expect(d.errorInformation).toEqual({ code: 'ALARM_ACTIVE', message: 'Stopped by alarm monitoring: CloudWatch has no alarm named no-such-alarm, and alarmConfiguration.ignorePollAlarmFailure is false' });
  }, 60_000);

  it('a deployment that resumes after the coordinator is killed is watched again', async () => {
    const { id, journal, alarmName } = await slowDeployment('restart');
    // when the coordinator is killed and started again, and only then the alarm fires
    await world.coordinator.stop('SIGKILL');
    await world.restartCoordinator({ args: ['--alarm-poll-interval-seconds', '1'] });
    world.sdk = (await import('../harness/aws-cli.js')).codeDeployClient(world.coordinator);
    await setAlarm(alarmName, 'ALARM');
    // then the resumed deployment is stopped by it
    const d = await world.finished(id, 60_000);
    expect(d.status, await world.failures(id)).toBe('Stopped');
    expect(d.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(startsIn(journal)).toEqual({ 'sim-1': 1 });
  }, 120_000);

  describe('with CloudWatch unreachable (moto stopped)', () => {
    beforeAll(async () => {
      await group('g-unreachable-strict', ['any-alarm']);
      await group('g-unreachable-lenient', ['any-alarm'], { ignorePollAlarmFailure: true });
      await moto.stop();
    }, 30_000);

    it('ignorePollAlarmFailure false: the deployment stops, saying the alarms could not be read', async () => {
      const id = await world.deploy('g-unreachable-strict', await world.upload(probeBundle(world.journal('strict'), { destination: '/srv/strict' })));
      const d = await world.finished(id, 30_000);
      expect(d.status).toBe('Stopped');
      expect(d.errorInformation?.code).toBe('ALARM_ACTIVE');
      expect(d.errorInformation?.message).toMatch(/^Stopped by alarm monitoring: the state of alarm any-alarm could not be read from CloudWatch \(.*ECONNREFUSED.*\), and alarmConfiguration.ignorePollAlarmFailure is false$/);
      expect(statusesOf(await world.targets(id))).toEqual(ALL_SKIPPED);
    }, 60_000);

    it('ignorePollAlarmFailure true: the deployment succeeds, and the coordinator warns once', async () => {
      const id = await world.deploy('g-unreachable-lenient', await world.upload(probeBundle(world.journal('lenient'), { sleepSeconds: 1, destination: '/srv/lenient' })));
      const d = await world.finished(id, 60_000);
      expect(d.status, await world.failures(id)).toBe('Succeeded');
      // it ran long enough for several polls to fail (one a second), and was warned about once
      expect((d.completeTime!.getTime() - d.createTime!.getTime()) / 1000).toBeGreaterThan(3);
      const warnings = world.coordinator.logs().split('\n').filter((l) => l.includes(id) && l.includes('alarms could not all be read'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, deploymentId: id, detail: expect.stringContaining('could not be read from CloudWatch') });
    }, 90_000);
  });
}));
