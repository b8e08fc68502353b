/**
 * What happens when things go wrong in the middle of a deployment: a StopDeployment, an agent
 * killed with SIGKILL, and the coordinator killed with SIGKILL and started again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetWorld, statusesOf } from './fleet-world.js';
import { probeBundle, startsIn } from '../harness/bundles.js';
import { eventually } from '../harness/eventually.js';
import { describeWithTools } from '../harness/system-tools.js';

describeWithTools(['aws'], 'fleet resilience driven by the stock AWS CLI', () => {
  const world = new FleetWorld();
  // A short grace, so that a killed agent fails its instance within seconds.
  beforeAll(() => world.start(5, ['--agent-grace', '2']), 60_000);
  afterAll(() => world.stop());

  describe('StopDeployment', () => {
    it('cancels the running event, starts nothing more, and ends Stopped', async () => {
      // given a OneAtATime deployment whose BeforeInstall takes a while
      await world.group('g-stop', 'CodeDeployDefault.OneAtATime');
      const journal = world.journal('stop');
      const key = await world.upload(probeBundle(journal, { sleepSeconds: 20, destination: '/srv/stop' }));
      const id = await world.deploy('g-stop', key);
      await world.running(id, 'sim-1');
      // when it is stopped
      const stop = await world.cliOk(['deploy', 'stop-deployment', '--deployment-id', id]);
      expect(stop.json.status).toBe('Pending'); // an event was still running
      const d = await world.finished(id, 15_000);
      // then the running host failed, the others were never touched, and no other host started
      expect(d.status).toBe('Stopped');
      expect(d.errorInformation?.code).toBe('MANUAL_STOP');
      const targets = await world.targets(id);
      expect(statusesOf(targets)).toEqual({ 'sim-1': 'Failed', 'sim-2': 'Skipped', 'sim-3': 'Skipped', 'sim-4': 'Skipped', 'sim-5': 'Skipped' });
      expect(startsIn(journal)).toEqual({ 'sim-1': 1 });
      // and a stopped deployment cannot be stopped again
      const again = await world.cli(['deploy', 'stop-deployment', '--deployment-id', id]);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain('DeploymentAlreadyCompletedException');
    }, 90_000);
  });

  describe('an agent killed mid-deployment', () => {
    it('fails only its own instance after the grace, and never runs the event twice', async () => {
      await world.group('g-agent-kill', 'CodeDeployDefault.AllAtOnce');
      const journal = world.journal('agent-kill');
      const key = await world.upload(probeBundle(journal, { sleepSeconds: 3, destination: '/srv/agent-kill' }));
      const id = await world.deploy('g-agent-kill', key);
      await world.running(id, 'sim-3');
      // (InProgress is shown once the command is sent; wait until its script has really started)
      await eventually(() => expect(startsIn(journal)['sim-3']).toBe(1), 10_000, 20);
      // when sim-3's agent dies in the middle of BeforeInstall
      await world.agent('sim-3').stop('SIGKILL');
      const d = await world.finished(id, 30_000);
      // then only sim-3 failed, and AllAtOnce still succeeds with the others
      expect(d.status, await world.failures(id)).toBe('Succeeded');
      const targets = await world.targets(id);
      expect(statusesOf(targets)).toEqual({ 'sim-1': 'Succeeded', 'sim-2': 'Succeeded', 'sim-3': 'Failed', 'sim-4': 'Succeeded', 'sim-5': 'Succeeded' });
      const before = targets['sim-3']!.lifecycleEvents!.find((e) => e.lifecycleEventName === 'BeforeInstall')!;
      expect(before.status).toBe('Failed');
      expect(before.diagnostics?.message).toContain('stopped answering');
      // and when the agent comes back it reports the interrupted event instead of running it again
      const restarted = await world.agent('sim-3').restart();
      world.agents = world.agents.map((a) => (a.name === 'sim-3' ? restarted : a));
      // (its result is acknowledged by the coordinator and kept among the agent's acknowledged results)
      const acknowledged = path.join(restarted.rootDir, 'fleetdeploy-agent', 'acknowledged');
      await eventually(() => {
        const reports = fs.readdirSync(acknowledged).map((f) => fs.readFileSync(path.join(acknowledged, f), 'utf8')).filter((t) => t.includes('FailedAfterRestart'));
        expect(reports).toHaveLength(1);
        expect(fs.readdirSync(path.join(restarted.rootDir, 'fleetdeploy-agent', 'results'))).toEqual([]);
      }, 20_000);
      const next = await world.deploy('g-agent-kill', await world.upload(probeBundle(world.journal('agent-kill-2'), { destination: '/srv/agent-kill', version: 'v2' })), ['--file-exists-behavior', 'OVERWRITE']);
      expect((await world.finished(next, 60_000)).status, await world.failures(next)).toBe('Succeeded');
      expect(startsIn(journal)['sim-3']).toBe(1);
    }, 120_000);
  });

  describe('the coordinator killed mid-deployment', () => {
    it('continues the deployment to the same outcome after a restart', async () => {
      await world.group('g-coord-kill', 'CodeDeployDefault.OneAtATime');
      const journal = world.journal('coord-kill');
      const key = await world.upload(probeBundle(journal, { sleepSeconds: 1, destination: '/srv/coord-kill' }));
      const id = await world.deploy('g-coord-kill', key);
      await world.running(id, 'sim-2');
      // when the coordinator is killed while sim-2 runs BeforeInstall, and started again
      await world.coordinator.stop('SIGKILL');
      await world.restartCoordinator({ args: ['--agent-grace', '2'] });
      world.sdk = (await import('../harness/aws-cli.js')).codeDeployClient(world.coordinator);
      // then it finishes as it would have, every host deployed exactly once
      const d = await world.finished(id, 90_000);
      expect(d.status, await world.failures(id)).toBe('Succeeded');
      expect(statusesOf(await world.targets(id))).toEqual({ 'sim-1': 'Succeeded', 'sim-2': 'Succeeded', 'sim-3': 'Succeeded', 'sim-4': 'Succeeded', 'sim-5': 'Succeeded' });
      expect(startsIn(journal)).toEqual({ 'sim-1': 1, 'sim-2': 1, 'sim-3': 1, 'sim-4': 1, 'sim-5': 1 });
    }, 150_000);
  });
});
