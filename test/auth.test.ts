/**
 * Signed requests end to end: the built coordinator, the stock AWS CLI (/usr/bin/aws) and the SDK.
 * Every refusal the security issue lists is answered with AWS's error type and changes nothing; the
 * first admin key is in admin-credentials (0600, never rewritten); `fleetdeploy-coordinator keys`
 * makes, lists and revokes keys while the daemon runs, and a revoked key is refused at once.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateApplicationCommand, ListApplicationsCommand, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aws, codeDeployClient } from './harness/aws-cli.js';
import type { CliResult } from './harness/aws-cli.js';
import { writeZipBundle } from './harness/bundles.js';
import { COORDINATOR_BIN, startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess, Credentials } from './harness/coordinator.js';
import { describeWithTools } from './harness/system-tools.js';

describeWithTools(['aws'], 'signed requests with the stock AWS CLI', () => {
  const APP = 'auth-app';
  const GROUP = 'auth-group';
  const BUCKET = 'revisions';
  const ROLE_ARN = 'arn:aws:iam::000000000000:role/fleetdeploy';

  let c: CoordinatorProcess;
  let work: string;
  let readOnly: Credentials;
  let deployer: Credentials;
  const s3Location = `bucket=${BUCKET},key=app.zip,bundleType=zip`;

  /** keys runs `fleetdeploy-coordinator keys <args> --data-dir <the coordinator's>`. */
  function keys(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [COORDINATOR_BIN, 'keys', ...args, '--data-dir', c.dataDir], (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  async function createKey(role: string): Promise<Credentials> {
    const r = await keys('create', '--role', role);
    expect(r.code, r.stderr).toBe(0);
    const id = /^aws_access_key_id = (AKIA[A-Z2-7]{16})$/m.exec(r.stdout)?.[1];
    const secret = /^aws_secret_access_key = (\S{40})$/m.exec(r.stdout)?.[1];
    expect(id && secret, r.stdout).toBeTruthy();
    return { accessKeyId: id!, secretAccessKey: secret! };
  }

  const as = (credentials: Credentials) => ({ apiUrl: c.apiUrl, credentials });

  async function ok(r: Promise<CliResult>): Promise<CliResult> {
    const out = await r;
    expect(out.code, out.stderr).toBe(0);
    return out;
  }

  /** refusedCli expects the CLI to fail with the named AWS error. */
  async function refusedCli(r: Promise<CliResult>, type: string): Promise<void> {
    const out = await r;
    expect(out.code, out.stdout).not.toBe(0);
    expect(out.stderr).toContain(`(${type})`);
  }

  const adminSdk = () => codeDeployClient(c);
  const s3With = (credentials: Credentials, extra: Record<string, unknown> = {}) =>
    new S3Client({ endpoint: c.apiUrl, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1, ...extra });

  async function applicationNames(): Promise<string[]> {
    const sdk = adminSdk();
    try {
      return (await sdk.send(new ListApplicationsCommand({}))).applications ?? [];
    } finally {
      sdk.destroy();
    }
  }

  async function deploymentIds(): Promise<string[]> {
    const r = await ok(aws(c, ['deploy', 'list-deployments', '--application-name', APP, '--deployment-group-name', GROUP]));
    return r.json.deployments as string[];
  }

  /** objectExists asks the bucket as the admin whether `key` is there. */
  async function objectExists(key: string): Promise<boolean> {
    return (await aws(c, ['s3api', 'head-object', '--bucket', BUCKET, '--key', key])).code === 0;
  }

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-auth-'));
    c = await startCoordinator();
    readOnly = await createKey('read-only');
    deployer = await createKey('deployer');
    const bundle = writeZipBundle(path.join(work, 'app.zip'), { 'appspec.yml': 'version: 0.0\nos: linux\n' });
    await ok(aws(c, ['s3', 'mb', `s3://${BUCKET}`]));
    await ok(aws(c, ['s3', 'cp', bundle, `s3://${BUCKET}/app.zip`]));
    await ok(aws(c, ['deploy', 'create-application', '--application-name', APP]));
    await ok(aws(c, ['deploy', 'create-deployment-group', '--application-name', APP, '--deployment-group-name', GROUP, '--service-role-arn', ROLE_ARN,
      '--on-premises-instance-tag-filters', 'Key=env,Value=nowhere,Type=KEY_AND_VALUE']));
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  describe('the first admin key', () => {
    it('is in admin-credentials, readable only by its owner, in AWS credentials-file format', () => {
      const file = path.join(c.dataDir, 'admin-credentials');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(file, 'utf8')).toBe(`[default]\naws_access_key_id = ${c.credentials.accessKeyId}\naws_secret_access_key = ${c.credentials.secretAccessKey}\n`);
      expect(fs.statSync(c.dataDir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(c.dataDir, 'coordinator.db')).mode & 0o777).toBe(0o600);
      expect(c.logs()).toContain('first admin access key created');
      expect(c.logs()).not.toContain(c.credentials.secretAccessKey);
    });
  });

  describe('refusals, each with AWS\'s error type and nothing changed', () => {
    it('an unsigned request: MissingAuthenticationTokenException (CLI --no-sign-request and raw HTTP)', async () => {
      await refusedCli(aws(c, ['deploy', 'create-application', '--application-name', 'unsigned-cli', '--no-sign-request']), 'MissingAuthenticationTokenException');
      const res = await fetch(c.apiUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'CodeDeploy_20141006.CreateApplication' },
        body: JSON.stringify({ applicationName: 'unsigned-raw' }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
      expect(await applicationNames()).toEqual([APP]);
    });

    it('a wrong secret: InvalidSignatureException (CLI and SDK)', async () => {
      const wrong = { accessKeyId: c.credentials.accessKeyId, secretAccessKey: 'x'.repeat(40) };
      await refusedCli(aws(as(wrong), ['deploy', 'create-application', '--application-name', 'wrong-secret']), 'InvalidSignatureException');
      const sdk = codeDeployClient(as(wrong));
      await expect(sdk.send(new CreateApplicationCommand({ applicationName: 'wrong-secret-sdk' }))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
      sdk.destroy();
      expect(await applicationNames()).toEqual([APP]);
    });

    it('an unknown key: UnrecognizedClientException (CLI and SDK)', async () => {
      const unknown = { accessKeyId: 'AKIAUNKNOWNUNKNOWN22', secretAccessKey: c.credentials.secretAccessKey };
      await refusedCli(aws(as(unknown), ['deploy', 'create-application', '--application-name', 'unknown-key']), 'UnrecognizedClientException');
      const sdk = codeDeployClient(as(unknown));
      await expect(sdk.send(new CreateApplicationCommand({ applicationName: 'unknown-key-sdk' }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
      sdk.destroy();
      expect(await applicationNames()).toEqual([APP]);
    });

    it('an expired signature (signed 20 minutes ago): InvalidSignatureException; the bucket: RequestTimeTooSkewed', async () => {
      const late = new CodeDeployClient({ endpoint: c.apiUrl, region: 'us-east-1', credentials: c.credentials, maxAttempts: 1, systemClockOffset: -20 * 60_000 });
      await expect(late.send(new CreateApplicationCommand({ applicationName: 'expired' }))).rejects.toMatchObject({
        name: 'InvalidSignatureException',
        message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than/),
      });
      late.destroy();
      expect(await applicationNames()).toEqual([APP]);
      const lateS3 = s3With(c.credentials, { systemClockOffset: -20 * 60_000 });
      await expect(lateS3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'late.zip', Body: 'x' }))).rejects.toMatchObject({ name: 'RequestTimeTooSkewed' });
      lateS3.destroy();
      expect(await objectExists('late.zip')).toBe(false);
    });

    it('a presigned URL replayed past its expiry: AccessDenied "Request has expired"; a fresh one works', async () => {
      const short = (await ok(aws(c, ['s3', 'presign', `s3://${BUCKET}/app.zip`, '--expires-in', '1']))).stdout.trim();
      expect(short).toMatch(/X-Amz-Signature=[0-9a-f]{64}/);
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const expired = await fetch(short);
      expect(expired.status).toBe(403);
      const text = await expired.text();
      expect(text).toContain('<Code>AccessDenied</Code>');
      expect(text).toContain('<Message>Request has expired</Message>');

      const fresh = (await ok(aws(c, ['s3', 'presign', `s3://${BUCKET}/app.zip`, '--expires-in', '60']))).stdout.trim();
      const got = await fetch(fresh);
      expect(got.status).toBe(200);
      expect(Buffer.from(await got.arrayBuffer())).toEqual(fs.readFileSync(path.join(work, 'app.zip')));
      const tampered = await fetch(fresh.replace('app.zip', 'other.zip'));
      expect(tampered.status).toBe(403);
      expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    });

    it('a read-only key creating a deployment: AccessDeniedException (CLI and SDK); it may still read', async () => {
      await refusedCli(aws(as(readOnly), ['deploy', 'create-deployment', '--application-name', APP, '--deployment-group-name', GROUP, '--s3-location', s3Location]), 'AccessDeniedException');
      const r = await aws(as(readOnly), ['deploy', 'create-deployment', '--application-name', APP, '--deployment-group-name', GROUP, '--s3-location', s3Location]);
      expect(r.stderr).toContain(`The access key ${readOnly.accessKeyId} (role read-only) is not authorized to perform: codedeploy:CreateDeployment`);
      const sdk = codeDeployClient(as(readOnly));
      await expect(sdk.send(new CreateApplicationCommand({ applicationName: 'read-only-app' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect((await sdk.send(new ListDeploymentsCommand({ applicationName: APP, deploymentGroupName: GROUP }))).deployments).toEqual([]);
      sdk.destroy();
      expect(await deploymentIds()).toEqual([]);
      expect(await applicationNames()).toEqual([APP]);
      expect((await ok(aws(as(readOnly), ['deploy', 'get-application', '--application-name', APP]))).json.application.applicationName).toBe(APP);
      // …and it may not upload, though it may read the bucket
      await refusedCli(aws(as(readOnly), ['s3', 'cp', path.join(work, 'app.zip'), `s3://${BUCKET}/by-read-only.zip`]), 'AccessDenied');
      expect(await objectExists('by-read-only.zip')).toBe(false);
      await ok(aws(as(readOnly), ['s3', 'cp', `s3://${BUCKET}/app.zip`, path.join(work, 'read-only-copy.zip')]));
    });

    it('an anonymous bucket read or write: AccessDenied (CLI --no-sign-request and raw HTTP)', async () => {
      await refusedCli(aws(c, ['s3api', 'get-object', '--bucket', BUCKET, '--key', 'app.zip', path.join(work, 'anon.zip'), '--no-sign-request']), 'AccessDenied');
      expect(fs.existsSync(path.join(work, 'anon.zip'))).toBe(false);
      const get = await fetch(`${c.apiUrl}/${BUCKET}/app.zip`);
      expect(get.status).toBe(403);
      expect(await get.text()).toMatch(/<Code>AccessDenied<\/Code><Message>Access Denied<\/Message>/);
      const list = await fetch(`${c.apiUrl}/${BUCKET}?list-type=2`);
      expect(list.status).toBe(403);
      const put = await fetch(`${c.apiUrl}/${BUCKET}/anon.zip`, { method: 'PUT', body: 'anonymous bytes' });
      expect(put.status).toBe(403);
      expect(await objectExists('anon.zip')).toBe(false);
    });

    it('the bucket with a wrong secret or an unknown key: SignatureDoesNotMatch, InvalidAccessKeyId', async () => {
      const wrong = s3With({ accessKeyId: c.credentials.accessKeyId, secretAccessKey: 'y'.repeat(40) });
      await expect(wrong.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'wrong.zip', Body: 'x' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
      wrong.destroy();
      const unknown = s3With({ accessKeyId: 'AKIAUNKNOWNUNKNOWN33', secretAccessKey: 'y'.repeat(40) });
      await expect(unknown.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'app.zip' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
      unknown.destroy();
      await refusedCli(aws(as({ accessKeyId: 'AKIAUNKNOWNUNKNOWN33', secretAccessKey: 'y'.repeat(40) }), ['s3', 'ls', `s3://${BUCKET}/`]), 'InvalidAccessKeyId');
      expect(await objectExists('wrong.zip')).toBe(false);
    });

    it('leaves /healthz open', async () => {
      expect((await fetch(`${c.apiUrl}/healthz`)).status).toBe(200);
    });
  });

  describe('a deployer key', () => {
    it('uploads and creates a deployment, but may not change the fleet or delete objects', async () => {
      await ok(aws(as(deployer), ['s3', 'cp', path.join(work, 'app.zip'), `s3://${BUCKET}/by-deployer.zip`]));
      await ok(aws(as(deployer), ['deploy', 'register-application-revision', '--application-name', APP, '--s3-location', s3Location]));
      await refusedCli(aws(as(deployer), ['deploy', 'create-deployment-group', '--application-name', APP, '--deployment-group-name', 'by-deployer', '--service-role-arn', ROLE_ARN]), 'AccessDeniedException');
      await refusedCli(aws(as(deployer), ['s3', 'rm', `s3://${BUCKET}/app.zip`]), 'AccessDenied');
      expect(await objectExists('app.zip')).toBe(true);
      const created = await aws(as(deployer), ['deploy', 'create-deployment', '--application-name', APP, '--deployment-group-name', GROUP, '--s3-location', s3Location]);
      expect(created.stderr).not.toContain('AccessDenied');
      if (created.code === 0) expect(await deploymentIds()).toEqual([created.json.deploymentId]);
    });
  });

  describe('fleetdeploy-coordinator keys', () => {
    it('lists ids, roles and times, never secrets', async () => {
      const r = await keys('list');
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^ID\s+ROLE\s+CREATED\s+REVOKED$/);
      expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
        [c.credentials.accessKeyId, 'admin'],
        [readOnly.accessKeyId, 'read-only'],
        [deployer.accessKeyId, 'deployer'],
      ]);
      for (const secret of [c.credentials.secretAccessKey, readOnly.secretAccessKey, deployer.secretAccessKey]) expect(r.stdout).not.toContain(secret);
      const json = JSON.parse((await keys('list', '--json')).stdout) as { id: string; role: string }[];
      expect(json.map((k) => k.role)).toEqual(['admin', 'read-only', 'deployer']);
    });

    it('makes a key that works at once and revokes it so it is refused at once, while the daemon runs', async () => {
      const temp = await createKey('admin');
      await ok(aws(as(temp), ['deploy', 'list-applications']));
      const r = await keys('revoke', temp.accessKeyId);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`revoked ${temp.accessKeyId}`);
      await refusedCli(aws(as(temp), ['deploy', 'list-applications']), 'UnrecognizedClientException');
      await refusedCli(aws(as(temp), ['s3', 'ls']), 'InvalidAccessKeyId');
      expect((await keys('list')).stdout).toMatch(new RegExp(`^${temp.accessKeyId}\\s+admin\\s+\\S+\\s+\\d{4}-\\d\\d-\\d\\dT`, 'm'));
    });

    it('refuses an unknown key id and an unknown role with one ERROR line', async () => {
      const unknown = await keys('revoke', 'AKIANOSUCHKEYNOSUCH0');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr.trim()).toMatch(/^ERROR: there is no access key AKIANOSUCHKEYNOSUCH0/);
      const role = await keys('create', '--role', 'root');
      expect(role.code).not.toBe(0);
      expect(role.stderr).toContain('root');
    });
  });

  describe('a restart', () => {
    it('keeps admin-credentials as it was (0600, same bytes, not rewritten) and the keys working', async () => {
      const file = path.join(c.dataDir, 'admin-credentials');
      const before = { text: fs.readFileSync(file, 'utf8'), stat: fs.statSync(file) };
      const apiPort = Number(new URL(c.apiUrl).port);
      expect(await c.stop()).toBe(0);
      c = await startCoordinator({ dataDir: c.dataDir, apiPort });
      const after = fs.statSync(file);
      expect(fs.readFileSync(file, 'utf8')).toBe(before.text);
      expect([after.mode & 0o777, after.mtimeMs, after.ino]).toEqual([0o600, before.stat.mtimeMs, before.stat.ino]);
      expect(c.logs()).not.toContain('first admin access key created');
      await ok(aws(c, ['deploy', 'list-applications']));
      await ok(aws(as(readOnly), ['deploy', 'list-applications']));
      expect((await keys('list', '--json')).stdout.match(/"role":"admin"/g)).toHaveLength(2); // the first and the revoked one
    });
  });
});
