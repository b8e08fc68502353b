/**
 * The `fleetdeploy` command line against a real coordinator and three real agents: push, deploy
 * --watch (plain lines without a terminal, progress bars in a real one under tmux), status, stop,
 * local, and the one-line errors. The CLI runs as the built program with only the AWS environment a
 * user would have: a shared-credentials file (the coordinator's first admin key) and an endpoint.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CodeDeployClient, CreateApplicationCommand, CreateDeploymentGroupCommand, GetDeploymentCommand, AddTagsToOnPremisesInstancesCommand, ListApplicationRevisionsCommand, RegisterOnPremisesInstanceCommand } from '@aws-sdk/client-codedeploy';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { startAgent } from './harness/agents.js';
import type { AgentProcess } from './harness/agents.js';
import { probeBundle } from './harness/bundles.js';
import type { BundleFiles } from './harness/bundles.js';
import { eventually } from './harness/eventually.js';
import { CLI_BIN, expectOneErrorLine, runCli, userEnvironment } from './harness/cli.js';
import type { CliRun as Run } from './harness/cli.js';
import { describeWithTools } from './harness/system-tools.js';

const APP = 'cli-app';
const ROLE = 'arn:aws:iam::000000000000:role/fleetdeploy';
const HOSTS = ['sim-1', 'sim-2', 'sim-3'];
const SUMMARY = /^Deployment d-[A-Z0-9]{9} (Succeeded|Failed|Stopped): \d+ succeeded, \d+ failed, \d+ skipped in \d+\.\d s/;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-cli-'));
let coordinator: CoordinatorProcess;
let agents: AgentProcess[] = [];
let env: NodeJS.ProcessEnv;
let sdk: CodeDeployClient;

/** fleetdeploy runs the CLI with `env` (plus `extraEnv`), never through a terminal. */
function fleetdeploy(args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<Run> {
  return runCli(args, { ...env, ...extraEnv }, dir, timeoutMs);
}

/** writeFolder writes a revision folder (shell scripts executable) and returns its path. */
function writeFolder(name: string, files: BundleFiles): string {
  const root = path.join(dir, 'revisions', name);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
  }
  return root;
}

beforeAll(async () => {
  coordinator = await startCoordinator();
  // The coordinator's first admin key, in AWS shared-credentials format: what an operator points the AWS tools at.
  env = userEnvironment(coordinator, dir);
  const client = { endpoint: coordinator.apiUrl, region: 'us-east-1', credentials: coordinator.credentials, maxAttempts: 1 };
  sdk = new CodeDeployClient(client);
  for (const [i, name] of HOSTS.entries()) {
    await sdk.send(new RegisterOnPremisesInstanceCommand({ instanceName: name, iamUserArn: `arn:aws:iam::000000000000:user/${name}` }));
    await sdk.send(new AddTagsToOnPremisesInstancesCommand({ instanceNames: [name], tags: [{ Key: 'env', Value: 'sim' }, { Key: 'n', Value: String(i) }] }));
  }
  agents = await Promise.all(HOSTS.map((n) => startAgent(n, coordinator, dir))); // enrolled: mutual TLS
  await sdk.send(new CreateApplicationCommand({ applicationName: APP }));
  for (const [group, config] of [['web', 'CodeDeployDefault.OneAtATime'], ['all', 'CodeDeployDefault.AllAtOnce']] as const) {
    await sdk.send(
      new CreateDeploymentGroupCommand({
        applicationName: APP,
        deploymentGroupName: group,
        serviceRoleArn: ROLE,
        deploymentConfigName: config,
        onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'sim', Type: 'KEY_AND_VALUE' }],
      }),
    );
  }
  const s3 = new S3Client({ ...client, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'revisions' }));
  s3.destroy();
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  await coordinator?.stop('SIGKILL');
  sdk?.destroy();
});

describe('push, then deploy --watch without a terminal', () => {
  let pushed: Run;
  beforeAll(async () => {
    const folder = writeFolder('ok-v1', probeBundle(path.join(dir, 'ok-v1.journal'), { sleepSeconds: 0.1, destination: '/srv/cli' }));
    pushed = await fleetdeploy(['push', '--application', APP, '--source', folder, '--s3-location', 's3://revisions/cli/ok-v1.tgz', '--description', 'first']);
  });

  it('packs, uploads and registers the revision, and says how to deploy it', () => {
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(/^Pushed s3:\/\/revisions\/cli\/ok-v1\.tgz \(tgz, 6 entries, \d+ bytes, ETag [0-9a-f]+\) and registered it with cli-app\./);
    // the suggested line names the object by its ETag, so deploying it reuses the registered revision
    expect(pushed.stdout).toMatch(/fleetdeploy deploy --application cli-app --group <deployment-group-name> --s3-location bucket=revisions,key=cli\/ok-v1\.tgz,bundleType=tgz,eTag=[0-9a-f]+ --watch\n/);
  });

  it('prints plain lines per lifecycle event and instance, ends with the summary and exits 0', async () => {
    const r = await fleetdeploy(['deploy', '--application', APP, '--group', 'web', '--s3-location', 's3://revisions/cli/ok-v1.tgz', '--watch']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toContain('\u001b'); // no escape codes without a terminal
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Created deployment d-[A-Z0-9]{9} of s3:\/\/revisions\/cli\/ok-v1\.tgz to cli-app\/web$/);
    for (const h of HOSTS) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${h}\\s+BeforeInstall\\s+Succeeded  \\d+\\.\\d s$`)));
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${h}\\s+instance Succeeded$`)));
    }
    // OneAtATime: one instance's lines all come before the next one's
    const owners = lines.map((l) => /^(sim-\d)\s/.exec(l)?.[1]).filter((h) => h !== undefined);
    expect(owners.filter((h, i) => i === 0 || owners[i - 1] !== h)).toHaveLength(3);
    expect(lines.at(-1)).toMatch(SUMMARY);
    expect(lines.at(-1)).toMatch(/Succeeded: 3 succeeded, 0 failed, 0 skipped in/);
    for (const a of agents) expect(fs.readFileSync(path.join(a.filesDir, 'srv/cli/index.html'), 'utf8')).toContain('probe v1');
    // deployed as s3://… without an eTag: the CLI looked it up, so the pushed revision was not registered a second time
    const revisions = (await sdk.send(new ListApplicationRevisionsCommand({ applicationName: APP }))).revisions ?? [];
    const same = revisions.filter((r) => r.s3Location?.key === 'cli/ok-v1.tgz');
    expect(same, JSON.stringify(same)).toHaveLength(1);
    expect(same[0]!.s3Location?.eTag).toMatch(/^[0-9a-f]+$/);
  }, 60_000);
});

describe('deploy --bundle', () => {
  it('pushes the folder to the default bucket, and exits 1 with the failure and the summary when the deployment fails', async () => {
    const folder = writeFolder('fails-on-2', probeBundle(path.join(dir, 'fail.journal'), { failOn: ['sim-2'], sleepSeconds: 0, destination: '/srv/cli-fail' }));
    const r = await fleetdeploy(['deploy', '--application', APP, '--group', 'web', '--bundle', folder, '--watch']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Pushed .*fails-on-2 as s3:\/\/fleetdeploy-revisions\/cli-app\/fails-on-2-\d{8}T\d{6}Z\.zip$/);
    expect(lines).toContainEqual(expect.stringMatching(/^sim-2\s+ValidateService\s+Failed  ScriptFailed hooks\/validate\.sh: /));
    expect(r.stdout).toMatch(/\| .*validation failed on sim-2/);
    expect(lines).toContainEqual(expect.stringMatching(/^sim-3\s+instance Skipped$/));
    expect(lines.at(-1), r.stdout).toMatch(SUMMARY);
    expect(lines.at(-1)).toMatch(/Failed: 1 succeeded, 1 failed, 1 skipped in [\d.]+ s \(.+\)$/);
    expect(lines.at(-1)).toContain('sim-2 failed in ValidateService (ScriptFailed); 1 instance was not deployed to');

    // status counts as --watch does: the failure in ValidateService is 6/7, the skipped instance 0/7; with the log tail
    const id = /Created deployment (d-[A-Z0-9]{9})/.exec(r.stdout)![1]!;
    const status = await fleetdeploy(['status', id]);
    const shown = status.stdout.trimEnd().split('\n');
    expect(shown[1]).toMatch(/^  revision: s3:\/\/fleetdeploy-revisions\/cli-app\/fails-on-2-\d{8}T\d{6}Z\.zip \(zip, eTag [0-9a-f]+\)$/);
    expect(shown[2]).toMatch(/^  created \S+ by user, ended \S+ in \d+\.\d s$/);
    expect(shown).toContainEqual(expect.stringMatching(/^  sim-2\s+Failed\s+6\/7 ValidateService: ScriptFailed hooks\/validate\.sh: /));
    expect(shown).toContainEqual(expect.stringMatching(/^\s+\| .*validation failed on sim-2/));
    expect(shown).toContainEqual(expect.stringMatching(/^  sim-3\s+Skipped\s+0\/7/));
    expect(status.stdout).not.toContain('\u001b'); // no colour without a terminal
  }, 60_000);
});

describe('status', () => {
  it('shows a deployment with its overview and one line per instance, and the latest deployments of the application', async () => {
    const folder = writeFolder('status', probeBundle(path.join(dir, 'status.journal'), { sleepSeconds: 0, destination: '/srv/cli-status' }));
    const created = await fleetdeploy(['deploy', '-a', APP, '-g', 'all', '--bundle', folder, '--bundle-type', 'tgz']);
    expect(created.code, created.stderr).toBe(0);
    const id = /Created deployment (d-[A-Z0-9]{9})/.exec(created.stdout)![1]!;
    expect(created.stdout).toContain(`Follow it with: fleetdeploy status ${id} --watch`);
    await eventually(async () => expect((await sdk.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo?.status).toBe('Succeeded'), 30_000, 100);

    const r = await fleetdeploy(['status', id]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Deployment ${id} Succeeded (cli-app/all, CodeDeployDefault.AllAtOnce)`);
    expect(lines, r.stdout).toContain('  instances: 3 succeeded, 0 failed, 0 skipped, 0 in progress, 0 pending');
    for (const h of HOSTS) expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  ${h}\\s+Succeeded\\s+7/7`)));

    const list = await fleetdeploy(['status', '--application', APP]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^Latest deployments of cli-app:\n/);
    expect(list.stdout).toMatch(new RegExp(`  ${id}  Succeeded\\s+all\\s+3 succeeded, 0 failed, 0 skipped`));
    const group = await fleetdeploy(['status', '-a', APP, '-g', 'web', '-n', '1']);
    expect(group.stdout.trimEnd().split('\n')).toHaveLength(2);
  }, 60_000);
});

describe('stop', () => {
  it('stops a running deployment (with --rollback) and says so', async () => {
    const folder = writeFolder('slow', probeBundle(path.join(dir, 'slow.journal'), { sleepSeconds: 3, destination: '/srv/cli-slow' }));
    const created = await fleetdeploy(['deploy', '-a', APP, '-g', 'web', '--bundle', folder]);
    const id = /Created deployment (d-[A-Z0-9]{9})/.exec(created.stdout)![1]!;
    const r = await fleetdeploy(['stop', id, '--rollback']);
    expect(r.code, r.stderr).toBe(0);
    // it waits for the stop to take effect and says how the deployment ended, never "Pending"
    const stopped = r.stdout.trimEnd().split('\n');
    expect(stopped[0]).toMatch(new RegExp(`^Deployment ${id} Stopped \\(MANUAL_STOP\\): \\d succeeded, \\d failed, \\d skipped$`));
    expect(stopped[1]).toMatch(/^Rolling back as d-[A-Z0-9]{9} \(the last successful revision\): fleetdeploy status d-[A-Z0-9]{9} --watch follows it$/);
    expect(r.stdout).not.toContain('Pending');
    expect((await sdk.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo?.status).toBe('Stopped');
    // a watcher of a stopped deployment: the snapshot, then the end, then exit 1 (not Succeeded)
    const late = await fleetdeploy(['status', id, '--watch']);
    expect(late.code, late.stdout + late.stderr).toBe(1);
    expect(late.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^Deployment ${id} Stopped: \\d succeeded, \\d failed, \\d skipped in [\\d.]+ s`));
    await eventually(async () => expect((await sdk.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo?.status).toBe('Stopped'), 30_000, 100);
    // already ended: the snapshot, with the event the stop cancelled (a watch never hides a failure), and the summary at once
    const again = await fleetdeploy(['status', id, '--watch']);
    expect(again.stdout).toMatch(new RegExp(`^deployment ${id} Stopped\n(sim-\\d +\\w+ +Failed  \\w+[^\\n]*\n( +\\| [^\\n]*\n)*)+Deployment ${id} Stopped: `));
    const watched = await fleetdeploy(['status', id]);
    expect(watched.stdout).toMatch(new RegExp(`^Deployment ${id} Stopped`));
    expect((await fleetdeploy(['stop', id])).stderr).toMatch(/^ERROR: StopDeployment d-\w+: DeploymentAlreadyCompletedException: /);
    const rollbackId = /Rolling back as (d-[A-Z0-9]{9})/.exec(r.stdout)![1]!;
    await eventually(async () => expect((await sdk.send(new GetDeploymentCommand({ deploymentId: rollbackId }))).deploymentInfo?.status).toMatch(/Succeeded|Failed|Stopped/), 30_000, 100);

    // --no-wait: only asks
    const other = await fleetdeploy(['deploy', '-a', APP, '-g', 'all', '--bundle', folder]);
    const otherId = /Created deployment (d-[A-Z0-9]{9})/.exec(other.stdout)![1]!;
    const asked = await fleetdeploy(['stop', otherId, '--no-wait']);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toMatch(new RegExp(`^Asked ${otherId} to stop: no new lifecycle events start and the running ones are being cancelled\\.\nfleetdeploy status ${otherId} --watch follows it until it has stopped\\.\n$`));
    await eventually(async () => expect((await sdk.send(new GetDeploymentCommand({ deploymentId: otherId }))).deploymentInfo?.status).toBe('Stopped'), 30_000, 100);
  }, 90_000);
});

describe('local', () => {
  it('runs the agent\'s local engine on a folder with the same options', async () => {
    const root = path.join(dir, 'local-root');
    const files = path.join(dir, 'local-files');
    fs.writeFileSync(path.join(dir, 'local-agent.yml'), `root_dir: ${root}\ndestination_root: ${files}\n`);
    const folder = writeFolder('local', probeBundle(path.join(dir, 'local.journal'), { sleepSeconds: 0, destination: '/srv/local' }));
    const r = await fleetdeploy(['local', '--bundle-location', folder, '--type', 'directory', '-c', path.join(dir, 'local-agent.yml'), '-g', 'cli-local']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Local deployment successful');
    expect(fs.readFileSync(path.join(files, 'srv/local/index.html'), 'utf8')).toContain('probe v1');
    expect(fs.existsSync(path.join(root, 'cli-local'))).toBe(true);
    const bad = await fleetdeploy(['local', '--type', 'rar']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ERROR: /);
  }, 60_000);
});

describe('errors: one line that says what to do, and a non-zero exit', () => {
  it('a folder without appspec.yml', async () => {
    const folder = writeFolder('no-appspec', { 'index.html': 'x' });
    expectOneErrorLine(await fleetdeploy(['push', '-a', APP, '-s', folder, '--s3-location', 's3://revisions/x.zip']), /no-appspec has no appspec\.yml: put the AppSpec file at the top of the revision folder$/);
    expectOneErrorLine(await fleetdeploy(['deploy', '-a', APP, '-g', 'web', '--bundle', path.join(dir, 'nowhere')]), /nowhere does not exist/);
  });

  it('no credentials', async () => {
    const r = await fleetdeploy(['status', '-a', APP], { AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-such-file') });
    expectOneErrorLine(r, /^ERROR: no credentials: set AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or AWS_SHARED_CREDENTIALS_FILE=<data_dir>\/admin-credentials /);
  });

  it('an endpoint nothing answers at, and none at all', async () => {
    expectOneErrorLine(await fleetdeploy(['status', 'd-AAAAAAAAA', '--endpoint-url', 'http://127.0.0.1:1']), /cannot reach the coordinator at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\): check --endpoint-url or FLEETDEPLOY_ENDPOINT/);
    expectOneErrorLine(await fleetdeploy(['status', 'd-AAAAAAAAA'], { FLEETDEPLOY_ENDPOINT: '' }), /no coordinator endpoint: pass --endpoint-url URL or set FLEETDEPLOY_ENDPOINT/);
  });

  it('the endpoint from the profile\'s endpoint_url', async () => {
    fs.writeFileSync(path.join(dir, 'profile-config'), `[profile fleet]\nendpoint_url = ${coordinator.apiUrl}\nregion = us-east-1\n`);
    const r = await fleetdeploy(['status', '-a', APP, '--profile', 'fleet'], { FLEETDEPLOY_ENDPOINT: '', AWS_CONFIG_FILE: path.join(dir, 'profile-config') });
    // the endpoint was found (no NO_ENDPOINT error), but the shared credentials file has no [fleet] keys
    expectOneErrorLine(r, /^ERROR: no credentials: /);
    const withKeys = path.join(dir, 'profile-credentials');
    fs.writeFileSync(withKeys, fs.readFileSync(env.AWS_SHARED_CREDENTIALS_FILE!, 'utf8').replace('[default]', '[fleet]'));
    const ok = await fleetdeploy(['status', '-a', APP, '--profile', 'fleet'], { FLEETDEPLOY_ENDPOINT: '', AWS_CONFIG_FILE: path.join(dir, 'profile-config'), AWS_SHARED_CREDENTIALS_FILE: withKeys });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Latest deployments of cli-app:/);
  });

  it('an unknown application, group or configuration: the AWS exception and the nearest existing name, before anything is uploaded', async () => {
    expectOneErrorLine(await fleetdeploy(['deploy', '-a', 'no-such-app', '-g', 'web', '--s3-location', 's3://revisions/cli/ok-v1.tgz']), /^ERROR: application no-such-app does not exist \(ApplicationDoesNotExistException\): fleetdeploy app list shows the applications$/);
    expectOneErrorLine(await fleetdeploy(['deploy', '-a', 'cli-ap', '-g', 'web', '--s3-location', 's3://revisions/cli/ok-v1.tgz']), /^ERROR: application cli-ap does not exist \(ApplicationDoesNotExistException\): did you mean cli-app\?$/);
    expectOneErrorLine(await fleetdeploy(['status', '-a', APP, '-g', 'wbe']), /^ERROR: deployment group wbe of cli-app does not exist \(DeploymentGroupDoesNotExistException\): did you mean web\?$/);
    expectOneErrorLine(await fleetdeploy(['deploy', '-a', APP, '-g', 'web', '-c', 'CodeDeployDefault.OneAtATim', '--s3-location', 's3://revisions/cli/ok-v1.tgz']), /\(DeploymentConfigDoesNotExistException\): did you mean CodeDeployDefault\.OneAtATime\?$/);
    // a typo in push or deploy --bundle leaves no orphan object in the bucket
    const s3 = new S3Client({ endpoint: coordinator.apiUrl, region: 'us-east-1', credentials: coordinator.credentials, forcePathStyle: true, maxAttempts: 1 });
    const keys = async (bucket: string): Promise<string[]> => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key ?? '');
    const before = [...(await keys('revisions')), ...(await keys('fleetdeploy-revisions'))];
    expectOneErrorLine(await fleetdeploy(['push', '-a', 'cli-ap', '-s', path.join(dir, 'revisions/ok-v1'), '--s3-location', 's3://revisions/orphan.zip']), /did you mean cli-app\?$/);
    expectOneErrorLine(await fleetdeploy(['deploy', '-a', APP, '-g', 'wbe', '--bundle', path.join(dir, 'revisions/ok-v1')]), /did you mean web\?$/);
    expect([...(await keys('revisions')), ...(await keys('fleetdeploy-revisions'))]).toEqual(before);
    s3.destroy();
    expectOneErrorLine(await fleetdeploy(['deploy', '-a', APP, '-g', 'web', '--s3-location', 's3://revisions/never-pushed.zip']), /^ERROR: s3:\/\/revisions\/never-pushed\.zip is not in the coordinator's bucket: push it first/);
    expectOneErrorLine(await fleetdeploy(['status', 'd-NOSUCH999']), /^ERROR: GetDeployment d-NOSUCH999: DeploymentDoesNotExistException: /);
    expectOneErrorLine(await fleetdeploy(['push', '-a', APP, '-s', path.join(dir, 'revisions/ok-v1'), '--s3-location', 's3://no-such-bucket/x.zip']), /NoSuchBucket.*create it first: aws s3 mb s3:\/\/no-such-bucket/);
  });

  it('usage mistakes', async () => {
    expectOneErrorLine(await fleetdeploy(['deploy', '-a', APP, '-g', 'web']), /give one of --bundle DIR .* --s3-location .* or --appspec FILE/);
    expectOneErrorLine(await fleetdeploy(['deploy', '-a', APP]), /required option .*--group/);
    expectOneErrorLine(await fleetdeploy(['push', '-a', APP, '-s', '.', '--s3-location', 'revisions/x.zip']), /names no bucket and key: use s3:\/\/BUCKET\/KEY/);
  });
});

describe('the event stream is signed like the API', () => {
  /** upgrade tries a WebSocket at `url` and returns the refusal's status and AWS error type, or 101. */
  function upgrade(url: string): Promise<{ status: number; type?: string }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.on('open', () => {
        ws.terminate();
        resolve({ status: 101 });
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: (JSON.parse(body) as { __type: string }).__type }));
      });
      ws.on('error', () => undefined);
    });
  }

  it('refuses an unsigned upgrade and a wrong secret, and lets a presigned one in', async () => {
    const created = await fleetdeploy(['deploy', '-a', APP, '-g', 'all', '--bundle', writeFolder('signed', probeBundle(path.join(dir, 'signed.journal'), { sleepSeconds: 0, destination: '/srv/cli-signed' }))]);
    const id = /Created deployment (d-[A-Z0-9]{9})/.exec(created.stdout)![1]!;
    expect(coordinator.apiUrl).toMatch(/^https:/); // so the stream is wss://
    const base = `${coordinator.apiUrl.replace(/^http/, 'ws')}/events?deploymentId=${id}`;
    const unsigned = await upgrade(base);
    expect(unsigned.status).toBe(403);
    expect(unsigned.type).toMatch(/MissingAuthenticationToken|UnrecognizedClient|AccessDenied/);
    const presign = async (secretAccessKey: string): Promise<string> => {
      const { SignatureV4 } = await import('@smithy/signature-v4');
      const { Hash } = await import('@smithy/core/serde');
      const u = new URL(coordinator.apiUrl);
      const signed = await new SignatureV4({ service: 'codedeploy', region: 'us-east-1', credentials: { accessKeyId: coordinator.credentials.accessKeyId, secretAccessKey }, sha256: Hash.bind(null, 'sha256') }).presign(
        { method: 'GET', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: '/events', query: { deploymentId: id }, headers: { host: u.host } },
        { expiresIn: 60 },
      );
      return `${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}/events?${new URLSearchParams(signed.query as Record<string, string>).toString()}`;
    };
    expect(await upgrade(await presign('not-the-secret'))).toEqual({ status: 403, type: 'InvalidSignatureException' });
    expect(await upgrade(await presign(coordinator.credentials.secretAccessKey))).toEqual({ status: 101 });
    await eventually(async () => expect((await sdk.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo?.status).toBe('Succeeded'), 30_000, 100);
  });
});

describeWithTools(['tmux'], 'deploy --watch in a real terminal (tmux)', () => {
  it('draws a bar per instance that advances, the lifecycle lines above, and ends with the one-line summary', async () => {
    const folder = writeFolder('tty', probeBundle(path.join(dir, 'tty.journal'), { sleepSeconds: 0.4, destination: '/srv/cli-tty' }));
    const script = path.join(dir, 'tty.sh');
    const exports = Object.entries(env).map(([k, v]) => `export ${k}='${v ?? ''}'`).join('\n');
    fs.writeFileSync(script, `${exports}\ncd '${dir}'\n'${process.execPath}' '${CLI_BIN}' deploy -a ${APP} -g web --bundle '${folder}' --watch\necho "EXIT=$?"\nsleep 30\n`);
    const socket = `fd-cli-test-${process.pid}`;
    const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    tmux('new-session', '-d', '-s', 'watch', '-x', '120', '-y', '40', `sh '${script}'`);
    const frames: string[] = [];
    try {
      await eventually(
        () => {
          const frame = tmux('capture-pane', '-p', '-t', 'watch');
          if (frames.at(-1) !== frame) frames.push(frame);
          if (!frame.includes('EXIT=')) throw new Error(`still running:\n${frame}`);
        },
        45_000,
        100,
      );
    } finally {
      tmux('kill-server');
    }
    const bar = (frame: string, host: string): number | undefined => {
      const m = new RegExp(`^ ${host}\\s+[█░]+ (\\d)/7 `, 'm').exec(frame);
      return m ? Number(m[1]) : undefined;
    };
    // bars appear, one per instance, and advance: some frame shows sim-1 done while sim-3 has not started
    expect(frames.some((f) => HOSTS.every((h) => bar(f, h) !== undefined))).toBe(true);
    // OneAtATime: some frame shows one instance done while another has not started, and each bar passes through partial values
    expect(frames.some((f) => HOSTS.some((a) => bar(f, a) === 7) && HOSTS.some((b) => bar(f, b) === 0)), frames.join('\n----\n')).toBe(true);
    for (const h of HOSTS) expect(frames.some((f) => [1, 2, 3, 4, 5, 6].includes(bar(f, h) ?? -1)), h).toBe(true);
    // the running event shows how long it has run
    expect(frames.some((f) => /^ sim-\d\s+[█░]+ \d\/7 [A-Za-z]+ \d+\.\d s /m.test(f)), frames.join('\n----\n')).toBe(true);
    const values = frames.map((f) => HOSTS.map((h) => bar(f, h) ?? 0).reduce((a, b) => a + b, 0));
    expect([...values].sort((a, b) => a - b)).toEqual(values); // never goes back
    const last = frames.at(-1)!;
    for (const h of HOSTS) expect(bar(last, h)).toBe(7);
    for (const h of HOSTS) expect(last).toMatch(new RegExp(`^${h}\\s+instance Succeeded`, 'm')); // lifecycle lines above the bars
    const lines = last.split('\n');
    const summary = lines.findIndex((l) => SUMMARY.test(l));
    expect(summary, last).toBeGreaterThan(lines.findIndex((l) => /^ sim-3\s+█/.test(l)));
    expect(lines[summary]).toMatch(/Succeeded: 3 succeeded, 0 failed, 0 skipped in/);
    expect(last).toContain('EXIT=0');
  }, 60_000);
});
