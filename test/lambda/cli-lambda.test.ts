/**
 * The `fleetdeploy` command on a Lambda deployment, against a real coordinator whose Lambda is moto:
 * `status ID` and `status ID --watch` show the target function:alias, its hooks and the weight of
 * the target version, not an instance's in-place lifecycle steps.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools, itWithTools } from '../harness/system-tools.js';
import { eventually } from '../harness/eventually.js';
import { CLI_BIN, runCli, userEnvironment, watchUntil } from '../harness/cli.js';
import { LambdaWorld, lambdaAppSpec } from './lambda-world.js';

describeWithTools(['moto_server'], 'fleetdeploy status and --watch on a Lambda deployment', () => {
  const world = new LambdaWorld();
  let env: NodeJS.ProcessEnv;
  let dir: string;

  beforeAll(async () => {
    await world.start({ minuteMs: 300, hookTimeoutSeconds: 60 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-cli-lambda-'));
    env = userEnvironment(world.coordinator, dir);
    await world.fn('cli');
    await world.app('cli', 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
  }, 120_000);
  afterAll(async () => {
    await world.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('status --watch follows the hooks and the weights to the end; status shows where they ended', async () => {
    // given a canary deployment of version 2 with both hooks
    const id = await world.deploy('cli', lambdaAppSpec('cli', { before: 'cli-pre', after: 'cli-post' }));
    // when it is watched (from before the hook lets the canary start: its 10 % step lasts 1.5 s, less
    // than the CLI may take to start on a loaded machine) while the hook functions report
    const watching = watchUntil(['status', id, '--watch'], env, dir, 'hooks BeforeAllowTraffic');
    await watching.reached;
    await world.hook('cli-pre', id, 'Succeeded');
    await world.hook('cli-post', id, 'Succeeded');
    const watch = await watching.done;
    // then the watch shows the target, each hook, each weight, and ends with where the traffic is
    expect(watch.code, watch.stdout + watch.stderr).toBe(0);
    const lines = watch.stdout.trimEnd().split('\n');
    expect(lines).toContain('cli:live  version 1 → 2; hooks BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic');
    // (the first look may come before the hook reports, at 0 %, or after the canary started)
    const weights = lines.filter((l) => / traffic /.test(l)).map((l) => l.replace(/^cli:live  traffic +[█░]+  /, ''));
    expect(weights.filter((w) => w !== '100 % on version 1')).toEqual(['90 % on version 1, 10 % on version 2', '100 % on version 2']);
    expect(lines).toContain(`cli:live  traffic             ██░░░░░░░░░░░░░░░░░░  90 % on version 1, 10 % on version 2`);
    for (const e of ['BeforeAllowTraffic', 'AfterAllowTraffic']) expect(lines.some((l) => new RegExp(`^cli:live  ${e} +Succeeded  \\d+\\.\\d s$`).test(l)), watch.stdout).toBe(true);
    // the last weight comes before AllowTraffic ends, and the deployment's end after both
    expect(lines.indexOf('cli:live  AllowTraffic        Succeeded')).toBeGreaterThan(lines.findIndex((l) => l.endsWith('100 % on version 2')));
    expect(lines.indexOf(`deployment ${id} Succeeded`)).toBeGreaterThan(lines.findIndex((l) => l.endsWith('100 % on version 2')));
    expect(lines.at(-1)).toMatch(new RegExp(`^Deployment ${id} Succeeded: cli:live: 100 % on version 2 in \\d+\\.\\d s$`));
    expect(watch.stdout).not.toMatch(/succeeded, 0 failed|\d\/7/);

    const status = await runCli(['status', id], env, dir);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^ {2}target: cli:live {2}Succeeded {2}version 1 → 2 {2}█{20} {2}100 % on version 2$/m);
    expect(status.stdout).toMatch(/^ {4}BeforeAllowTraffic +Succeeded {2}\d+\.\d s$/m);
    expect(status.stdout).toMatch(/^ {4}AllowTraffic +Succeeded$/m);
    expect(status.stdout).not.toMatch(/instances:/);

    const json = await runCli(['status', id, '--output', 'json'], env, dir);
    expect(JSON.parse(json.stdout).lambdaTargets[0]).toMatchObject({ targetId: 'cli:live', status: 'Succeeded', lambdaFunctionInfo: { functionName: 'cli', targetVersion: '2', targetVersionWeight: 1 } });
  }, 60_000);

  it('status --watch of a linear deployment prints every weight step, in order, none missed (one every 300 ms, faster than a look could catch)', async () => {
    // given a linear deployment whose BeforeAllowTraffic hook holds it until the watcher is following
    await world.fn('lin');
    await world.app('lin', 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute');
    const id = await world.deploy('lin', lambdaAppSpec('lin', { before: 'lin-pre' }));
    const watching = watchUntil(['status', id, '--watch'], env, dir, 'hooks BeforeAllowTraffic');
    await watching.reached;
    // when the hook lets it go, and ten steps follow 300 ms apart
    await world.hook('lin-pre', id, 'Succeeded');
    const watch = await watching.done;
    // then each of the ten weights is printed once, in order, before AllowTraffic ends and the deployment with it
    expect(watch.code, watch.stdout + watch.stderr).toBe(0);
    const lines = watch.stdout.trimEnd().split('\n');
    const weights = lines.filter((l) => / traffic /.test(l)).map((l) => l.replace(/^lin:live  traffic +[█░]+  /, ''));
    expect(weights, watch.stdout).toEqual([
      '100 % on version 1',
      ...[10, 20, 30, 40, 50, 60, 70, 80, 90].map((n) => `${100 - n} % on version 1, ${n} % on version 2`),
      '100 % on version 2',
    ]);
    expect(lines.indexOf('lin:live  AllowTraffic        Succeeded')).toBeGreaterThan(lines.findIndex((l) => l.endsWith('100 % on version 2')));
    expect(lines.at(-1)).toMatch(new RegExp(`^Deployment ${id} Succeeded: lin:live: 100 % on version 2 in \\d+\\.\\d s$`));
  }, 60_000);

  it('a failed hook: the watch shows it, exits 1 and says the traffic stayed on the original', async () => {
    await world.fn('cli2');
    await world.app('cli2', 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
    const id = await world.deploy('cli2', lambdaAppSpec('cli2', { before: 'cli2-pre' }));
    const watching = runCli(['status', id, '--watch'], env, dir);
    await world.hook('cli2-pre', id, 'Failed');
    const watch = await watching;
    expect(watch.code, watch.stdout + watch.stderr).toBe(1);
    expect(watch.stdout).toMatch(/^cli2:live  BeforeAllowTraffic +Failed/m);
    expect(watch.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^Deployment ${id} Failed: cli2:live: 100 % on version 1 in \\d+\\.\\d s \\(.+\\)$`));
    const status = await runCli(['status', id], env, dir);
    expect(status.stdout).toMatch(/^ {2}target: cli2:live {2}Failed {2}version 1 → 2 {2}░{20} {2}100 % on version 1$/m);
    expect(status.stdout).toMatch(/^ {4}AllowTraffic +Skipped$/m);
  }, 60_000);

  it('app create and group create for Lambda point at a Lambda configuration and an AppSpec deployment, not at instances and bundles', async () => {
    const app = await runCli(['app', 'create', 'lam', '--compute-platform', 'Lambda'], env, dir);
    expect(app.stdout).toMatch(/^Next: fleetdeploy group create -a lam GROUP --config CodeDeployDefault\.LambdaCanary10Percent5Minutes$/m);
    const group = await runCli(['group', 'create', 'g', '-a', 'lam', '--config', 'CodeDeployDefault.LambdaAllAtOnce'], env, dir);
    expect(group.code, group.stderr).toBe(0);
    expect(group.stdout).not.toMatch(/instances:/);
    expect(group.stdout).toMatch(/^Deploy to it: fleetdeploy deploy -a lam -g g --appspec appspec\.yml --watch$/m);
  }, 30_000);

  itWithTools(['tmux'], '--watch in a real terminal (tmux) prints the same lines and ends with the summary', async () => {
    await world.fn('tty');
    await world.app('tty', 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
    const id = await world.deploy('tty', lambdaAppSpec('tty', { before: 'tty-pre' }));
    const script = path.join(dir, 'tty.sh');
    const exports = Object.entries(env).map(([k, v]) => `export ${k}='${v ?? ''}'`).join('\n');
    fs.writeFileSync(script, `${exports}\n'${process.execPath}' '${CLI_BIN}' status ${id} --watch\necho "EXIT=$?"\nsleep 30\n`);
    const socket = `fd-cli-lambda-${process.pid}`;
    const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    tmux('new-session', '-d', '-s', 'watch', '-x', '140', '-y', '40', `sh '${script}'`);
    let frame = '';
    try {
      // the hook lets the 1.5 s canary step start only once the watch follows, as a slow CLI start would miss it
      await eventually(() => {
        frame = tmux('capture-pane', '-p', '-t', 'watch');
        if (!frame.includes('hooks BeforeAllowTraffic')) throw new Error(`not following yet:\n${frame}`);
      }, 30_000, 100);
      await world.hook('tty-pre', id, 'Succeeded');
      await eventually(() => {
        frame = tmux('capture-pane', '-p', '-t', 'watch');
        if (!frame.includes('EXIT=')) throw new Error(`still running:\n${frame}`);
      }, 30_000, 100);
    } finally {
      tmux('kill-server');
    }
    expect(frame).toMatch(/^tty:live {2}traffic +██░{18} {2}90 % on version 1, 10 % on version 2$/m);
    expect(frame).toMatch(/^tty:live {2}traffic +█{20} {2}100 % on version 2$/m);
    expect(frame).toMatch(new RegExp(`^Deployment ${id} Succeeded: tty:live: 100 % on version 2 in \\d+\\.\\d s$`, 'm'));
    expect(frame).toMatch(/^EXIT=0$/m);
  }, 60_000);

  it('deploy --appspec FILE --watch creates the deployment from the file and follows it to the end', async () => {
    await world.fn('dep');
    await world.app('dep', 'CodeDeployDefault.LambdaAllAtOnce');
    const file = path.join(dir, 'appspec.yml');
    fs.writeFileSync(file, lambdaAppSpec('dep', { before: 'dep-pre' }));
    const watching = runCli(['deploy', '-a', 'dep', '-g', 'dep-group', '--appspec', file, '--watch'], env, dir);
    const call = await world.invoked('dep-pre', await eventually(async () => {
      const id = (await world.codedeploy.send(new ListDeploymentsCommand({ applicationName: 'dep', deploymentGroupName: 'dep-group' }))).deployments?.[0];
      if (id === undefined) throw new Error('no deployment yet');
      return id;
    }, 20_000, 50));
    await world.hook('dep-pre', call.payload.DeploymentId!, 'Succeeded');
    const r = await watching;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Created deployment ${call.payload.DeploymentId} of ${file.replace(/[.]/g, '\\.')} to dep/dep-group$`, 'm'));
    expect(r.stdout).toMatch(/^dep:live {2}traffic +█{20} {2}100 % on version 2$/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^Deployment d-[A-Z0-9]{9} Succeeded: dep:live: 100 % on version 2 in \d+\.\d s$/);
    expect(await world.alias('dep')).toEqual({ version: '2', weights: {} });

    const missing = await runCli(['deploy', '-a', 'dep', '-g', 'dep-group', '--appspec', path.join(dir, 'nope.yml')], env, dir);
    expect(missing.stderr).toBe(`ERROR: --appspec: cannot read ${path.join(dir, 'nope.yml')}: ENOENT\n`);
  }, 60_000);
});
