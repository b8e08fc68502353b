/**
 * A fleet a person can see (issue 10, items 4-6), with a real coordinator, real agents and the built
 * `fleetdeploy` run as an operator would: `fleetdeploy instances` shows who is connected; an agent
 * that is offline when a deployment reaches it is named (a warning at creation, `status`, `--watch`),
 * its event waits Pending and is timed from when the agent started it; and the coordinator's
 * info-level log tells connects, disconnects, enrolments and every mutating call with its key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchGetDeploymentTargetsCommand, CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { LifecycleEvent } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { startAgent } from './harness/agents.js';
import type { AgentProcess } from './harness/agents.js';
import { probeBundle } from './harness/bundles.js';
import { runCli, userEnvironment } from './harness/cli.js';
import type { CliRun } from './harness/cli.js';
import { eventually } from './harness/eventually.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-fleet-view-'));
let coordinator: CoordinatorProcess;
let env: NodeJS.ProcessEnv;
let sdk: CodeDeployClient;
const agents = new Map<string, AgentProcess>();
const SLOW = 120_000;
const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';

const fleetdeploy = (...args: string[]): Promise<CliRun> => runCli(args, env, dir);

async function ok(...args: string[]): Promise<CliRun> {
  const r = await fleetdeploy(...args);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return r;
}

interface Listed {
  instances: { instanceName: string; tags: unknown[]; agent: { status: string; agentVersion?: string; connectedTime?: string; lastHeartbeatTime?: string; disconnectedTime?: string }; certificateExpiryTime?: string; lastDeployment?: { deploymentId: string; instanceStatus: string; revision: { s3Location?: { key?: string } } } }[];
}
const listed = async (): Promise<Listed['instances']> => (JSON.parse((await ok('instances', '--output', 'json')).stdout) as Listed).instances;
const agentOf = async (name: string): Promise<Listed['instances'][number]['agent']> => (await listed()).find((i) => i.instanceName === name)!.agent;

beforeAll(async () => {
  coordinator = await startCoordinator();
  env = userEnvironment(coordinator, dir);
  sdk = new CodeDeployClient({ endpoint: coordinator.apiUrl, region: 'us-east-1', credentials: coordinator.credentials, maxAttempts: 1 });
  for (const name of ['web-01', 'web-02']) {
    await ok('instance', 'register', name, '--tag', 'role=web');
    agents.set(name, await startAgent(name, coordinator, dir));
  }
}, SLOW);

afterAll(async () => {
  await Promise.all([...agents.values()].map((a) => a.stop('SIGKILL')));
  await coordinator?.stop('SIGKILL');
  sdk?.destroy();
});

describe('fleetdeploy instances', () => {
  it('shows each instance with its agent connected or not, last heartbeat, version and certificate expiry', async () => {
    await eventually(async () => expect((await listed()).map((i) => [i.instanceName, i.agent.status])).toEqual([['web-01', 'Connected'], ['web-02', 'Connected']]), 30_000, 250);
    const [web01] = await listed();
    expect(web01).toMatchObject({ tags: [{ Key: 'role', Value: 'web' }], agent: { agentVersion: expect.stringMatching(/^\d+\.\d+\.\d+/) } });
    expect(web01!.agent.lastHeartbeatTime).toMatch(new RegExp(`^${TIME.replace('Z', '')}`));
    expect(Date.parse(web01!.certificateExpiryTime!)).toBeGreaterThan(Date.now()); // enrolled: mutual TLS
    expect(web01!.lastDeployment).toBeUndefined();

    const table = (await ok('instances')).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^NAME\s+AGENT\s+LAST HEARTBEAT\s+VERSION\s+CERT EXPIRES\s+LAST DEPLOYMENT\s+REVISION\s+TAGS$/);
    expect(table[1]).toMatch(new RegExp(`^web-01\\s+connected\\s+${TIME}\\s+\\S+\\s+${TIME}\\s+-\\s+-\\s+role=web$`));

    await agents.get('web-02')!.stop();
    await eventually(async () => expect(await agentOf('web-02')).toMatchObject({ status: 'Disconnected', disconnectedTime: expect.stringMatching(new RegExp(TIME.replace('Z', ''))) }), 15_000, 250);
    expect((await ok('instances')).stdout).toMatch(/^web-02\s+offline\s/m);
  }, SLOW);
});

describe('heartbeats', () => {
  it("move a connected agent's last heartbeat on: they are written together within a second of coming in", async () => {
    // the agents answer the coordinator's heartbeat every 5 s (heartbeat_interval_seconds' default)
    await eventually(async () => {
      const agent = (await listed()).find((i) => i.instanceName === 'web-01')!.agent;
      expect(agent.status).toBe('Connected');
      expect(Date.parse(agent.lastHeartbeatTime!)).toBeGreaterThan(Date.parse(agent.connectedTime!));
    }, 20_000, 250);
  }, 30_000);
});

describe('an agent that is offline when a deployment reaches it', () => {
  it('is named at creation, in status and in --watch; its event waits Pending and is timed from when the agent started it', async () => {
    await ok('app', 'create', 'shop');
    await ok('group', 'create', '-a', 'shop', 'web', '--tag', 'role=web'); // OneAtATime
    const site = path.join(dir, 'site');
    for (const [rel, content] of Object.entries(probeBundle(path.join(dir, 'journal'), { sleepSeconds: 0, destination: '/srv/shop' }))) {
      fs.mkdirSync(path.dirname(path.join(site, rel)), { recursive: true });
      fs.writeFileSync(path.join(site, rel), content, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
    }
    expect((await agentOf('web-02')).status).toBe('Disconnected');

    const created = await ok('deploy', '-a', 'shop', '-g', 'web', '--bundle', site);
    const id = /Created deployment (d-\w+)/.exec(created.stdout)![1]!;
    expect(created.stdout).toMatch(new RegExp(`^WARNING: (the agent of web-02 is not connected \\(offline since ${TIME}\\); its events will wait for it|waiting for the agent of web-02 \\(offline since ${TIME}\\) to start ApplicationStop)$`, 'm'));
    expect(created.stdout).not.toMatch(/WARNING: .*web-01/);

    const watching = fleetdeploy('status', id, '--watch');
    const stopOf = async (name: string): Promise<LifecycleEvent> => {
      const out = await sdk.send(new BatchGetDeploymentTargetsCommand({ deploymentId: id, targetIds: [name] }));
      return out.deploymentTargets![0]!.instanceTarget!.lifecycleEvents!.find((e) => e.lifecycleEventName === 'ApplicationStop')!;
    };
    // web-01 deploys; then web-02 waits, Pending, and status says for whom
    await eventually(async () => expect((await ok('status', id)).stdout).toMatch(new RegExp(`^  waiting for the agent of web-02 \\(offline since ${TIME}\\) to start ApplicationStop$`, 'm')), 60_000, 500);
    expect((await stopOf('web-02')).status).toBe('Pending');
    await new Promise((r) => setTimeout(r, 2_000)); // a wait long enough to tell apart from the hook's own time

    const back = Date.now();
    agents.set('web-02', await agents.get('web-02')!.restart());
    const watched = await watching;
    expect(watched.code, watched.stdout + watched.stderr).toBe(0);
    // as the change came (a watcher that was there when web-02's turn came), or from the snapshot (one that came later)
    expect(watched.stdout).toMatch(new RegExp(`^(web-02\\s+ApplicationStop\\s+Pending: )?waiting for the agent of web-02 \\(offline since ${TIME}\\)( to start ApplicationStop)?$`, 'm'));
    const stop = await stopOf('web-02');
    expect(stop.status).toBe('Succeeded');
    expect(stop.startTime!.getTime()).toBeGreaterThanOrEqual(back - 1_000); // from when the agent started it, not from when it was queued
    const took = Number(new RegExp('^web-02\\s+ApplicationStop\\s+Succeeded\\s+([\\d.]+) s$', 'm').exec(watched.stdout)?.[1]);
    expect(took).toBeLessThan(2);

    const after = await listed();
    expect(after.map((i) => [i.instanceName, i.agent.status, i.lastDeployment?.deploymentId, i.lastDeployment?.instanceStatus])).toEqual([
      ['web-01', 'Connected', id, 'Succeeded'],
      ['web-02', 'Connected', id, 'Succeeded'],
    ]);
    expect(after[0]!.lastDeployment!.revision.s3Location?.key).toMatch(/^shop\/site-/);
    expect((await ok('instances')).stdout).toMatch(new RegExp(`^web-01\\s+connected\\s.*\\s${id} Succeeded\\s+s3://fleetdeploy-revisions/shop/site-\\S+ \\(zip, ETag \\w+\\)\\s+role=web$`, 'm'));
  }, SLOW);
});

describe("the coordinator's info log", () => {
  it('is all JSON and tells connects, disconnects, enrolments and every mutating call with the key that made it', () => {
    const records = coordinator.logs().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const info = records.filter((r) => r.level === 30);
    const said = (msg: string, fields: Record<string, unknown> = {}): boolean => info.some((r) => r.msg === msg && Object.entries(fields).every(([k, v]) => r[k] === v));
    expect(said('agent enrolled', { instance: 'web-02' })).toBe(true);
    expect(said('agent connected', { instance: 'web-01' })).toBe(true);
    expect(said('agent disconnected', { instance: 'web-02' })).toBe(true);
    const key = coordinator.credentials.accessKeyId;
    expect(said('api call', { operation: 'RegisterOnPremisesInstance', accessKeyId: key, role: 'admin', outcome: 'ok' })).toBe(true);
    expect(said('api call', { operation: 'CreateDeployment', accessKeyId: key, outcome: 'ok' })).toBe(true);
    expect(said('api call', { operation: 's3:PutObject', accessKeyId: key, outcome: 'ok' })).toBe(true);
    expect(info.some((r) => r.msg === 'api call' && /^(Get|List|BatchGet)/.test(String(r.operation)))).toBe(false);
  });
});
