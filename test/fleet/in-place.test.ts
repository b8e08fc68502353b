/**
 * In-place deployments across five real agent processes, driven by the stock AWS CLI (and the SDK
 * for reading): each configuration's concurrency, a failing ValidateService under each, and the
 * outcome CodeDeploy's minimum-healthy rules give.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetWorld, statusesOf } from './fleet-world.js';
import { maxInFlight, probeBundle } from '../harness/bundles.js';
import { eventually } from '../harness/eventually.js';
import { describeWithTools } from '../harness/system-tools.js';

describeWithTools(['aws'], 'in-place fleet deployments driven by the stock AWS CLI', () => {
  const world = new FleetWorld();
  beforeAll(() => world.start(5), 60_000);
  afterAll(() => world.stop());

  // Instances are scheduled in name order (all are new to each group, so equally unhealthy).
  const cases = [
    // config, create-deployment-config args, concurrency budget (total − minimum), outcome when sim-2 fails
    { config: 'CodeDeployDefault.OneAtATime', budget: 1, withFailure: { status: 'Failed', code: 'HEALTH_CONSTRAINTS' } },
    { config: 'CodeDeployDefault.HalfAtATime', budget: 2, withFailure: { status: 'Succeeded' } },
    { config: 'CodeDeployDefault.AllAtOnce', budget: 5, withFailure: { status: 'Succeeded' } },
    { config: 'Custom.ThreeHealthy', custom: ['--minimum-healthy-hosts', 'type=HOST_COUNT,value=3'], budget: 2, withFailure: { status: 'Succeeded' } },
  ] as const;

  describe.each(cases)('$config across five hosts', (c) => {
    const group = `g-${c.config.replace(/\W/g, '-')}`;

    beforeAll(async () => {
      if ('custom' in c) await world.cliOk(['deploy', 'create-deployment-config', '--deployment-config-name', c.config, ...c.custom]);
      await world.group(group, c.config);
    }, 30_000);

    it(`keeps at most ${c.budget} instance(s) in flight and succeeds`, async () => {
      // given a bundle whose hooks record when each host starts and ends
      const journal = world.journal(`${group}-ok`);
      const key = await world.upload(probeBundle(journal, { sleepSeconds: c.budget === 5 ? 1 : 0.3, destination: `/srv/${group}` }));
      // when it is deployed
      const id = await world.deploy(group, key);
      const d = await world.finished(id);
      // then every host got it, never more at once than the configuration allows
      expect(d.status, await world.failures(id)).toBe('Succeeded');
      expect(d.deploymentOverview).toMatchObject({ Succeeded: 5, Failed: 0, Skipped: 0, Pending: 0, InProgress: 0 });
      const inFlight = maxInFlight(journal);
      expect(inFlight).toBeLessThanOrEqual(c.budget);
      if (c.budget === 5) expect(inFlight).toBe(5); // AllAtOnce really runs them together
      for (const a of world.agents) expect(fs.readFileSync(path.join(a.filesDir, 'srv', group, 'index.html'), 'utf8')).toContain('probe v1');
    }, 90_000);

    it(`ends ${c.withFailure.status} when ValidateService fails on sim-2`, async () => {
      const journal = world.journal(`${group}-fail`);
      const key = await world.upload(probeBundle(journal, { failOn: ['sim-2'], version: 'v2', destination: `/srv/${group}` }));
      const id = await world.deploy(group, key);
      const d = await world.finished(id);
      expect(d.status, await world.failures(id)).toBe(c.withFailure.status);
      if ('code' in c.withFailure) expect(d.errorInformation?.code).toBe(c.withFailure.code);
      expect(maxInFlight(journal)).toBeLessThanOrEqual(c.budget);
      const targets = await world.targets(id);
      expect(targets['sim-2']!.status).toBe('Failed');
      const validate = targets['sim-2']!.lifecycleEvents!.find((e) => e.lifecycleEventName === 'ValidateService')!;
      expect(validate.status).toBe('Failed');
      expect(validate.diagnostics).toMatchObject({ errorCode: 'ScriptFailed', scriptName: 'hooks/validate.sh' });
      expect(validate.diagnostics!.logTail).toContain('validation failed on sim-2');
      if (c.withFailure.status === 'Failed') {
        // OneAtATime: the minimum can no longer be kept, so the rest are never touched
        expect(statusesOf(targets)).toEqual({ 'sim-1': 'Succeeded', 'sim-2': 'Failed', 'sim-3': 'Skipped', 'sim-4': 'Skipped', 'sim-5': 'Skipped' });
        expect(targets['sim-3']!.lifecycleEvents!.every((e) => e.status === 'Skipped')).toBe(true);
      } else {
        expect(statusesOf(targets)).toEqual({ 'sim-1': 'Succeeded', 'sim-2': 'Failed', 'sim-3': 'Succeeded', 'sim-4': 'Succeeded', 'sim-5': 'Succeeded' });
      }
    }, 90_000);
  });

  describe('targeting and the deployment group record', () => {
    it('deploys only to instances in every tag group of a tag set', async () => {
      // given sim-1..3 in zone a; role=web is sim-1, sim-3, sim-5
      await world.cliOk(['deploy', 'add-tags-to-on-premises-instances', '--instance-names', 'sim-1', 'sim-2', 'sim-3', '--tags', 'Key=zone,Value=a']);
      await world.cliOk([
        'deploy', 'create-deployment-group', '--application-name', 'fleet-app', '--deployment-group-name', 'g-tagset', '--service-role-arn', 'arn:aws:iam::000000000000:role/fleetdeploy',
        '--deployment-config-name', 'CodeDeployDefault.AllAtOnce',
        '--on-premises-tag-set', JSON.stringify({ onPremisesTagSetList: [[{ Key: 'role', Value: 'web', Type: 'KEY_AND_VALUE' }], [{ Key: 'zone', Value: 'a', Type: 'KEY_AND_VALUE' }]] }),
      ]);
      const key = await world.upload(probeBundle(world.journal('tagset'), { destination: '/srv/tagset' }));
      const id = await world.deploy('g-tagset', key);
      const d = await world.finished(id);
      expect(d.status, await world.failures(id)).toBe('Succeeded');
      expect(Object.keys(await world.targets(id)).sort()).toEqual(['sim-1', 'sim-3']);
      // and the group remembers what it deployed
      const g = await world.cliOk(['deploy', 'get-deployment-group', '--application-name', 'fleet-app', '--deployment-group-name', 'g-tagset']);
      expect(g.json.deploymentGroupInfo.lastSuccessfulDeployment.deploymentId).toBe(id);
      expect(g.json.deploymentGroupInfo.targetRevision.s3Location.key).toBe(key);

      // when another instance joins the group (tagged into both tag groups)
      await world.cliOk(['deploy', 'add-tags-to-on-premises-instances', '--instance-names', 'sim-5', '--tags', 'Key=zone,Value=a']);
      // then it gets the group's last successful revision on its own, as an Auto Scaling scale-out would
      const auto = await eventually(async () => {
        const list = await world.cliOk(['deploy', 'list-deployments', '--application-name', 'fleet-app', '--deployment-group-name', 'g-tagset']);
        const ids = (list.json.deployments as string[]).filter((d) => d !== id);
        if (ids.length !== 1) throw new Error(`expected one more deployment, have ${ids.length}`);
        return ids[0]!;
      }, 20_000, 200);
      const autoInfo = await world.finished(auto);
      expect(autoInfo.status, await world.failures(auto)).toBe('Succeeded');
      expect(autoInfo.creator).toBe('autoscaling');
      expect(Object.keys(await world.targets(auto))).toEqual(['sim-5']);
      expect(fs.readFileSync(path.join(world.agent('sim-5').filesDir, 'srv/tagset/index.html'), 'utf8')).toContain('probe v1');
    }, 90_000);
  });
});
