/**
 * `aws deploy push` of the stock AWS CLI against a real coordinator. push builds its S3 client without
 * `--endpoint-url` (that flag reaches only its CodeDeploy client), so the coordinator's bucket has to be
 * named through the configured-endpoint settings: AWS_ENDPOINT_URL_S3, or `endpoint_url` in the
 * profile or in a `services` section, which AWS CLI 2.13 / 1.29 and later read. An older CLI (Debian
 * 12's awscli is 2.9.19) would upload to AWS itself, so those cases are skipped for it, naming the
 * version, and never run off this machine; the last case, the two commands push stands for, runs with
 * every version. FLEETDEPLOY_AWS_CLI points the tests at another CLI.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from '../harness/coordinator.js';
import type { CoordinatorProcess } from '../harness/coordinator.js';
import { AWS_CLI, aws, awsCliVersion, cliEnvFor, readsConfiguredEndpoints, runAws } from '../harness/aws-cli.js';
import type { CliResult } from '../harness/aws-cli.js';
import { writeZipBundle } from '../harness/bundles.js';
import { describeWithTools } from '../harness/system-tools.js';

/** The CLI is slow to start on a busy machine, and each case runs it three or four times. */
const CLI_MS = 120_000;
const APP = 'shop';
const BUCKET = 'revisions';
const version = awsCliVersion();
const configured = version !== undefined && readsConfiguredEndpoints(version);
if (version !== undefined && !configured) {
  console.warn(`deploy-push.test.ts: ${AWS_CLI} is AWS CLI ${version}, older than 2.13 / 1.29: it cannot send aws deploy push's upload to the coordinator, so those cases are skipped (FLEETDEPLOY_AWS_CLI=<a newer aws> runs them)`);
}

describeWithTools(['aws'], 'aws deploy push against a coordinator', () => {
  let coordinator: CoordinatorProcess;
  let work: string;
  let source: string;

  beforeAll(async () => {
    coordinator = await startCoordinator();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-push-'));
    source = path.join(work, 'site');
    fs.mkdirSync(source);
    fs.writeFileSync(path.join(source, 'appspec.yml'), 'version: 0.0\nos: linux\nfiles:\n  - source: index.html\n    destination: /var/www\n');
    fs.writeFileSync(path.join(source, 'index.html'), '<h1>shop</h1>\n');
    for (const args of [['deploy', 'create-application', '--application-name', APP], ['s3', 'mb', `s3://${BUCKET}`]]) {
      const r = await aws(coordinator, args);
      if (r.code !== 0) throw new Error(`aws ${args.join(' ')}: ${r.stderr}`);
    }
  }, 60_000);
  afterAll(async () => {
    await coordinator?.stop();
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  });

  /** withConfig is the CLI environment with its own config file holding `text`. */
  function withConfig(text: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const file = path.join(work, `config-${createHash('sha1').update(text).digest('hex').slice(0, 8)}`);
    fs.writeFileSync(file, text);
    return { ...cliEnvFor(coordinator), AWS_CONFIG_FILE: file, ...extra };
  }

  /** registered is the coordinator's record of a revision, through the CLI. */
  async function registered(key: string, eTag?: string): Promise<CliResult> {
    const location = `revisionType=S3,s3Location={bucket=${BUCKET},key=${key},bundleType=zip${eTag === undefined ? '' : `,eTag=${eTag}`}}`;
    return aws(coordinator, ['deploy', 'get-application-revision', '--application-name', APP, '--revision', location]);
  }

  /** expectPushed checks push's output and that the coordinator holds and registered what it uploaded. */
  async function expectPushed(r: CliResult, key: string): Promise<void> {
    expect(r.code, r.stderr).toBe(0);
    const eTag = new RegExp(`--s3-location bucket=${BUCKET},key=${key.replace('.', '\\.')},bundleType=zip,eTag=([0-9a-f]{32})`).exec(r.stdout)?.[1];
    expect(eTag, r.stdout).toBeDefined();
    const head = await aws(coordinator, ['s3api', 'head-object', '--bucket', BUCKET, '--key', key]);
    expect(head.json?.ETag).toBe(`"${eTag}"`);
    const revision = await registered(key, eTag);
    expect(revision.code, revision.stderr).toBe(0);
    expect(revision.json.revisionInfo.description).toMatch(/^Uploaded by AWS CLI /);
  }

  const pushArgs = (key: string): string[] => ['deploy', 'push', '--application-name', APP, '--s3-location', `s3://${BUCKET}/${key}`, '--source', source];

  describe.skipIf(!configured)(`aws deploy push (AWS CLI ${version ?? 'missing'})`, () => {
    it('uploads to the coordinator with AWS_ENDPOINT_URL_S3, and registers through --endpoint-url', async () => {
      const env = { ...cliEnvFor(coordinator), AWS_ENDPOINT_URL_S3: coordinator.apiUrl };
      await expectPushed(await runAws([...pushArgs('env.zip'), '--endpoint-url', coordinator.apiUrl], env), 'env.zip');
    }, CLI_MS);

    it("needs no --endpoint-url when the profile's endpoint_url names the coordinator (CodeDeploy and S3 alike)", async () => {
      // the profile names the coordinator's CA too (ca_bundle), as the README shows, instead of AWS_CA_BUNDLE
      const env = withConfig(`[profile fleet]\nregion = us-east-1\nendpoint_url = ${coordinator.apiUrl}\nca_bundle = ${coordinator.caFile}\ns3 =\n    addressing_style = path\n`, { AWS_PROFILE: 'fleet' });
      delete env.AWS_CA_BUNDLE;
      await expectPushed(await runAws(pushArgs('profile.zip'), env), 'profile.zip');
    }, CLI_MS);

    it("takes the bucket's endpoint from a services section of the profile", async () => {
      const env = withConfig(`[profile fleet]\nregion = us-east-1\nservices = fleetdeploy\n\n[services fleetdeploy]\ns3 =\n    endpoint_url = ${coordinator.apiUrl}\n    addressing_style = path\ncodedeploy =\n    endpoint_url = ${coordinator.apiUrl}\n`, { AWS_PROFILE: 'fleet' });
      await expectPushed(await runAws(pushArgs('services.zip'), env), 'services.zip');
    }, CLI_MS);
  });

  describe('what aws deploy push does, in two commands any AWS CLI version can send to the coordinator', () => {
    it('s3 cp the zip, then register-application-revision with its ETag', async () => {
      const zip = writeZipBundle(path.join(work, 'two-step.zip'), { 'appspec.yml': 'version: 0.0\nos: linux\n', 'index.html': '<h1>shop</h1>\n' });
      const copied = await aws(coordinator, ['s3', 'cp', zip, `s3://${BUCKET}/two-step.zip`]);
      expect(copied.code, copied.stderr).toBe(0);
      const head = await aws(coordinator, ['s3api', 'head-object', '--bucket', BUCKET, '--key', 'two-step.zip']);
      const eTag = String(head.json?.ETag).replaceAll('"', '');
      expect(eTag).toBe(createHash('md5').update(fs.readFileSync(zip)).digest('hex'));
      const location = `bucket=${BUCKET},key=two-step.zip,bundleType=zip,eTag=${eTag}`;
      const r = await aws(coordinator, ['deploy', 'register-application-revision', '--application-name', APP, '--s3-location', location, '--description', 'pushed in two steps']);
      expect(r.code, r.stderr).toBe(0);
      const revision = await registered('two-step.zip', eTag);
      expect(revision.json?.revisionInfo?.description).toBe('pushed in two steps');
    }, CLI_MS);
  });
});

describe('readsConfiguredEndpoints', () => {
  it('knows which CLI versions read AWS_ENDPOINT_URL_<SERVICE> and the profile endpoints', () => {
    expect(['2.9.19', '2.12.7', '1.28.9', '2.13.0', '2.31.2', '1.29.0', '1.45.11'].map(readsConfiguredEndpoints)).toEqual([false, false, false, true, true, true, true]);
  });
});
