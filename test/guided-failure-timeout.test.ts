/**
 * Guided failure after a timeout, with a real coordinator and agent: the coordinator fails a
 * lifecycle event that outlives its timeout and holds the instance, but the agent's script (one
 * that ignores SIGTERM) still runs until the agent's SIGKILL. The coordinator cancels the command on
 * the agent and refuses a retry, naming the event, until the agent reports that it ended; the retry
 * then runs the instance again, alone, and the deployment succeeds.
 *
 * The coordinator's margin over the AppSpec's timeouts is made half a second (the default minute
 * would let the agent's own timeout come first) and the agent's kill grace 12 s, so the old script
 * clearly runs on after the coordinator gave up on it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { startAgent } from './harness/agents.js';
import type { AgentProcess } from './harness/agents.js';
import { runCli, userEnvironment } from './harness/cli.js';
import type { CliRun } from './harness/cli.js';
import { eventually } from './harness/eventually.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-guided-timeout-'));
const journal = path.join(dir, 'journal');
const fixed = path.join(dir, 'fixed');
const SLOW = 120_000;
let coordinator: CoordinatorProcess;
let agent: AgentProcess;
let env: NodeJS.ProcessEnv;

const fleetdeploy = (...args: string[]): Promise<CliRun> => runCli(args, env, dir);
async function ok(...args: string[]): Promise<CliRun> {
  const r = await fleetdeploy(...args);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r;
}
/** lines is what the scripts wrote, less the trap's notes (the agent's SIGTERM at its own timeout, and at the cancel). */
const lines = (): string[] => (fs.existsSync(journal) ? fs.readFileSync(journal, 'utf8').trim().split('\n') : []).filter((l) => l !== 'TERM ignored');

beforeAll(async () => {
  const config = path.join(dir, 'coordinator.yml');
  fs.writeFileSync(config, 'event_timeout_margin_seconds: 0.5\n');
  coordinator = await startCoordinator({ args: ['--config', config] });
  env = userEnvironment(coordinator, dir);
  await ok('app', 'create', 'shop');
  await ok('group', 'create', '-a', 'shop', 'web', '--tag', 'role=web', '--on-instance-failure', 'guided');
  await ok('instance', 'register', 'web-1', '--tag', 'role=web');
  agent = await startAgent('web-1', coordinator, dir, { config: ['script_kill_grace_seconds: 12'] });
  const site = path.join(dir, 'site');
  fs.mkdirSync(path.join(site, 'hooks'), { recursive: true });
  fs.mkdirSync(path.join(site, 'www'), { recursive: true });
  fs.writeFileSync(path.join(site, 'www/index.html'), 'shop\n');
  fs.writeFileSync(path.join(site, 'appspec.yml'), ['version: 0.0', 'os: linux', 'files:', '  - source: www', '    destination: /srv/shop', 'hooks:', '  AfterInstall:', '    - location: hooks/warm.sh', '      timeout: 2', ''].join('\n'));
  // Until `fixed` exists: ignores SIGTERM and would run 20 s, writing "finished" if nothing killed it.
  fs.writeFileSync(path.join(site, 'hooks/warm.sh'), [
    '#!/bin/sh',
    `if [ -f ${fixed} ]; then echo quick >> ${journal}; exit 0; fi`,
    `trap 'echo "TERM ignored" >> ${journal}' TERM`,
    `echo started >> ${journal}`,
    'i=0; while [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done',
    `echo finished >> ${journal}`, '',
  ].join('\n'), { mode: 0o755 });
}, SLOW);

afterAll(async () => {
  await agent?.stop('SIGKILL');
  await coordinator?.stop('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

it('refuses a retry while the timed-out script still runs on the agent, cancels it there, and retries once it ended', async () => {
  const created = await ok('deploy', '-a', 'shop', '-g', 'web', '--bundle', path.join(dir, 'site'));
  const id = /Created deployment (d-[A-Z0-9]+)/.exec(created.stdout)![1]!;
  // held at web-1 once the coordinator's 2.5 s pass; the script is still in its loop
  await eventually(async () => expect((await ok('status', id)).stdout).toContain(`guided failure: web-1 failed in AfterInstall (UnknownError); waiting for an operator`), 30_000, 200);
  expect(lines()).toEqual(['started']);

  const refused = await fleetdeploy('resolve', id, 'web-1', '--retry');
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(new RegExp(`cannot retry web-1 yet: its AfterInstall of ${id} \\(command [^)]+\\), ended at the coordinator at \\S+Z, still runs on its agent, which was asked to cancel it; retry once the agent reports it ended \\(skip and fail need not wait\\)`));
  expect(lines()).toEqual(['started']); // not started again beside it
  // the coordinator's cancel reached the agent, with its reason
  expect(agent.logs()).toContain('AfterInstall did not finish within its timeout on web-1');
  expect(agent.logs()).toContain('command cancelled');

  // the agent kills it at its own deadline plus its grace, and reports: the retry goes through
  fs.writeFileSync(fixed, '');
  await eventually(async () => {
    const r = await fleetdeploy('resolve', id, 'web-1', '--retry');
    expect(r.code, r.stderr).toBe(0);
  }, 40_000, 1000);
  await eventually(async () => expect((await ok('status', id)).stdout).toMatch(/Succeeded/), 60_000, 500);
  expect(lines()).toEqual(['started', 'quick']); // the old one killed before its end, then the retry
  expect(fs.readFileSync(journal, 'utf8')).toContain('TERM ignored');
}, SLOW);
