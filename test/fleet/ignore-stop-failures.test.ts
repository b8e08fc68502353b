/**
 * ignoreApplicationStopFailures with a real coordinator and agent, driven by the stock AWS CLI: what
 * CodeDeploy reports when the previous revision's ApplicationStop fails. The agent knows nothing of
 * the option (the AWS agent's deployment specification carries no such field) and reports the event
 * Failed with its diagnostics; the coordinator keeps that record and carries the instance on to
 * DownloadBundle, so the instance, and the deployment, end Succeeded. Without the option the instance
 * fails there and its later events are Skipped.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { APP, FleetWorld } from './fleet-world.js';
import { REPO_ROOT } from '../harness/coordinator.js';
import { describeWithTools } from '../harness/system-tools.js';

const world = new FleetWorld();
const GROUP = 'stop-fails';
const CLI_BIN = path.join(REPO_ROOT, 'packages/cli/bin/fleetdeploy.js');
const appspec = 'version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv/shop\nhooks:\n  ApplicationStop:\n    - location: stop.sh\n';
const revision = (version: string, stop: string) => ({ 'appspec.yml': appspec, 'site/index.html': version, 'stop.sh': `#!/bin/sh\n${stop}\n` });
const served = () => fs.readFileSync(path.join(world.agent('sim-1').filesDir, 'srv/shop/index.html'), 'utf8');
const AFTER_STOP = ['DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'];

/** fleetdeploy runs our CLI against the world's coordinator and returns its output. */
function fleetdeploy(args: string[]): Promise<string> {
  const { accessKeyId, secretAccessKey } = world.coordinator.credentials;
  const env = { ...process.env, FLEETDEPLOY_ENDPOINT: world.coordinator.apiUrl, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: 'us-east-1' };
  return new Promise((resolve) => execFile(process.execPath, [CLI_BIN, ...args], { env }, (_err, stdout, stderr) => resolve(stdout + stderr)));
}


describeWithTools(['aws'], 'a failing ApplicationStop of the installed revision', () => {
  beforeAll(async () => {
    await world.start(1);
    await world.group(GROUP, 'CodeDeployDefault.OneAtATime');
    // Given revision A is on the host, and its ApplicationStop script always fails
    const a = await world.deploy(GROUP, await world.upload(revision('A', 'echo cannot stop >&2\nexit 1')));
    expect((await world.finished(a)).status, await world.failures(a)).toBe('Succeeded');
  }, 90_000);
  afterAll(() => world.stop());

  it('fails the instance without ignoreApplicationStopFailures: later events Skipped, the files untouched', async () => {
    const id = await world.deploy(GROUP, await world.upload(revision('B', 'exit 0')));
    const d = await world.finished(id);
    expect(d.status).toBe('Failed');
    expect(d.deploymentOverview).toMatchObject({ Succeeded: 0, Failed: 1 });
    const t = (await world.targets(id))['sim-1']!;
    expect(t.status).toBe('Failed');
    expect(t.lifecycleEvents!.map((e) => e.status)).toEqual(['Failed', ...AFTER_STOP.map(() => 'Skipped')]);
    expect(served()).toBe('A');
  }, 60_000);

  it('with ignoreApplicationStopFailures: the event stays Failed with its diagnostics, the instance goes on and succeeds', async () => {
    const key = await world.upload(revision('B', 'exit 0'));
    const id = await world.deploy(GROUP, key, ['--ignore-application-stop-failures']);
    const d = await world.finished(id);
    expect(d.status, await world.failures(id)).toBe('Succeeded');
    expect(d.ignoreApplicationStopFailures).toBe(true);
    expect(d.errorInformation).toBeUndefined();
    expect(d.deploymentOverview).toMatchObject({ Succeeded: 1, Failed: 0, Skipped: 0 });
    const t = (await world.targets(id))['sim-1']!;
    expect(t.status).toBe('Succeeded');
    const [stop, ...rest] = t.lifecycleEvents!;
    expect(stop).toMatchObject({ lifecycleEventName: 'ApplicationStop', status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'stop.sh' } });
    expect(stop!.diagnostics!.logTail).toContain('[stderr]cannot stop');
    expect(rest.map((e) => [e.lifecycleEventName, e.status])).toEqual(AFTER_STOP.map((e) => [e, 'Succeeded']));
    expect(served()).toBe('B');
    // the stock CLI's instance view says the same
    const instance = await world.cliOk(['deploy', 'get-deployment-instance', '--deployment-id', id, '--instance-id', 'sim-1']);
    expect(instance.json.instanceSummary.status).toBe('Succeeded');
    expect(instance.json.instanceSummary.lifecycleEvents[0].status).toBe('Failed');
    // and our CLI says the failure was ignored
    expect(await fleetdeploy(['status', id])).toMatch(/^ {2}sim-1\s+Succeeded\s+7\/7 ApplicationStop \(ignored\): ScriptFailed stop\.sh: /m);

    // the next deployment runs B's ApplicationStop, which works: nothing of the ignored failure lingers
    const next = await world.finished(await world.deploy(GROUP, await world.upload(revision('C', 'exit 1'))));
    expect(next.status).toBe('Succeeded');
    expect(served()).toBe('C');
  }, 90_000);

  it('--watch marks the ignored failure and follows the instance to the end', async () => {
    const folder = path.join(world.dir, 'rev-d');
    for (const [rel, text] of Object.entries(revision('D', 'exit 0'))) {
      fs.mkdirSync(path.dirname(path.join(folder, rel)), { recursive: true });
      fs.writeFileSync(path.join(folder, rel), text, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
    }
    // C, installed now, has the failing ApplicationStop
    const out = await fleetdeploy(['deploy', '-a', APP, '-g', GROUP, '--bundle', folder, '--ignore-application-stop-failures', '--watch']);
    expect(out).toMatch(/^sim-1 +ApplicationStop +Failed \(ignored\) +ScriptFailed stop\.sh: /m);
    expect(out).toMatch(/^sim-1 +ValidateService +Succeeded/m);
    expect(out).toMatch(/^Deployment d-\w+ Succeeded: 1 succeeded, 0 failed, 0 skipped/m);
    expect(served()).toBe('D');
  }, 90_000);
});
