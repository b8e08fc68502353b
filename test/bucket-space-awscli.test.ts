/**
 * The revision bucket frees and bounds its disk, driven by the stock AWS CLI against a real
 * `fleetdeploy-coordinator serve` (issue 15 item 2): overwrites and `aws s3 rm` free blobs, so do
 * aborted (`aws s3api abort-multipart-upload`) and expired uploads, which `list-multipart-uploads`
 * shows; a bucket over its quota answers QuotaExceeded; a deployed bundle survives its object's
 * deletion and a restart's sweep.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aws } from './harness/aws-cli.js';
import type { CliResult } from './harness/aws-cli.js';
import { writeZipBundle } from './harness/bundles.js';
import { startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { eventually } from './harness/eventually.js';
import { describeWithTools } from './harness/system-tools.js';

const MiB = 1024 * 1024;

describeWithTools(['aws'], 'the revision bucket frees and bounds its disk (AWS CLI, real coordinator)', () => {
  let work: string;
  let c: CoordinatorProcess;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-bucket-space-'));
    const config = path.join(work, 'coordinator.yml');
    fs.writeFileSync(config, 'bucket_quota_bytes:\n  small: 30MiB\n');
    c = await startCoordinator({ args: ['--config', config] });
    for (const bucket of ['rev', 'small']) await ok(aws(c, ['s3', 'mb', `s3://${bucket}`]));
  }, 60_000);

  afterAll(async () => {
    await c?.stop();
    if (c !== undefined) fs.rmSync(c.dataDir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function ok(run: Promise<CliResult>): Promise<CliResult> {
    const r = await run;
    if (r.code !== 0) throw new Error(`aws exited ${r.code}: ${r.stderr}`);
    return r;
  }

  /** blobBytes is the size of every file in a coordinator's blob folder. */
  function blobBytes(of: CoordinatorProcess = c): number {
    let total = 0;
    for (const e of fs.readdirSync(path.join(of.dataDir, 'blobs'), { recursive: true, withFileTypes: true })) {
      if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
    }
    return total;
  }

  function randomFile(name: string, size: number): string {
    const file = path.join(work, name);
    fs.writeFileSync(file, randomBytes(size));
    return file;
  }

  const uploadIds = async (bucket: string, of: CoordinatorProcess = c): Promise<string[]> =>
    ((await ok(aws(of, ['s3api', 'list-multipart-uploads', '--bucket', bucket]))).json?.Uploads ?? []).map((u: { UploadId: string }) => u.UploadId);

  it('overwrites with aws s3 cp (multipart) and aws s3 rm leave only the live object on disk', async () => {
    const before = blobBytes();
    for (let i = 0; i < 3; i++) {
      await ok(aws(c, ['s3', 'cp', randomFile(`v${i}.zip`, 20 * MiB), 's3://rev/app.zip']));
      await eventually(() => expect(blobBytes() - before).toBe(20 * MiB), 10_000);
    }
    await ok(aws(c, ['s3', 'rm', 's3://rev/app.zip']));
    await eventually(() => expect(blobBytes()).toBe(before), 10_000);
  }, 120_000);

  it('list-multipart-uploads shows an unfinished upload; abort-multipart-upload forgets it and frees its parts', async () => {
    const before = blobBytes();
    const { json: created } = await ok(aws(c, ['s3api', 'create-multipart-upload', '--bucket', 'rev', '--key', 'big.zip']));
    const part = randomFile('part1', 5 * MiB);
    await ok(aws(c, ['s3api', 'upload-part', '--bucket', 'rev', '--key', 'big.zip', '--upload-id', created.UploadId, '--part-number', '1', '--body', part]));
    const listed = await ok(aws(c, ['s3api', 'list-multipart-uploads', '--bucket', 'rev']));
    expect(listed.json.Uploads).toEqual([expect.objectContaining({ Key: 'big.zip', UploadId: created.UploadId, StorageClass: 'STANDARD' })]);
    expect(blobBytes() - before).toBe(5 * MiB);
    await ok(aws(c, ['s3api', 'abort-multipart-upload', '--bucket', 'rev', '--key', 'big.zip', '--upload-id', created.UploadId]));
    expect(await uploadIds('rev')).toEqual([]);
    await eventually(() => expect(blobBytes()).toBe(before), 10_000);
  }, 60_000);

  it('an upload left unfinished past bucket_upload_expiry_seconds is aborted and its parts freed', async () => {
    // A coordinator of its own: a 6 s expiry would race the other tests' uploads on a loaded machine.
    const config = path.join(work, 'expiring.yml');
    fs.writeFileSync(config, 'bucket_upload_expiry_seconds: 6\n');
    const e = await startCoordinator({ args: ['--config', config] });
    try {
      await ok(aws(e, ['s3', 'mb', 's3://expiring']));
      const { json: created } = await ok(aws(e, ['s3api', 'create-multipart-upload', '--bucket', 'expiring', '--key', 'left.zip']));
      await ok(aws(e, ['s3api', 'upload-part', '--bucket', 'expiring', '--key', 'left.zip', '--upload-id', created.UploadId, '--part-number', '1', '--body', randomFile('part2', MiB)]));
      expect(blobBytes(e)).toBe(MiB);
      await eventually(async () => expect(await uploadIds('expiring', e)).toEqual([]), 20_000, 500);
      await eventually(() => expect(blobBytes(e)).toBe(0), 10_000);
      expect(e.logs()).toContain('abandoned multipart upload expired');
    } finally {
      await e.stop();
      fs.rmSync(e.dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a bucket past its quota refuses aws s3 cp with QuotaExceeded, and the refused upload leaves nothing behind', async () => {
    const before = blobBytes();
    await ok(aws(c, ['s3', 'cp', randomFile('fits.zip', 20 * MiB), 's3://small/fits.zip']));
    const single = await aws(c, ['s3api', 'put-object', '--bucket', 'small', '--key', 'single.zip', '--body', randomFile('single.zip', 11 * MiB)]);
    expect(single.code).not.toBe(0);
    expect(single.stderr).toMatch(/\(QuotaExceeded\) when calling the PutObject operation: Bucket small is over its quota: it holds 20971520 bytes .*its quota is 31457280 bytes \(bucket_quota_bytes\)/);
    const multipart = await aws(c, ['s3', 'cp', randomFile('too-big.zip', 20 * MiB), 's3://small/too-big.zip']);
    expect(multipart.code).not.toBe(0);
    expect(multipart.stderr).toMatch(/QuotaExceeded/);
    expect(await uploadIds('small')).toEqual([]); // the CLI aborted its upload
    await eventually(() => expect(blobBytes() - before).toBe(20 * MiB), 10_000);
    // A single PUT that replaces an object reuses its room (a multipart one needs room for its parts
    // while the old object is still there, as the disk does).
    await ok(aws(c, ['s3api', 'put-object', '--bucket', 'small', '--key', 'fits.zip', '--body', randomFile('replaces.zip', 25 * MiB)]));
    await eventually(() => expect(blobBytes() - before).toBe(25 * MiB), 10_000);
  }, 120_000);

  it("keeps a deployed bundle after its object is deleted, through a restart's sweep", async () => {
    const bundle = writeZipBundle(path.join(work, 'deployed.zip'), { 'appspec.yml': 'version: 0.0\nos: linux\n', 'note.txt': randomBytes(16).toString('hex') });
    await ok(aws(c, ['s3', 'cp', bundle, 's3://rev/deployed.zip']));
    await ok(aws(c, ['deploy', 'create-application', '--application-name', 'keep']));
    await ok(aws(c, ['deploy', 'create-deployment-group', '--application-name', 'keep', '--deployment-group-name', 'g',
      '--service-role-arn', 'arn:aws:iam::000000000000:role/fleetdeploy', '--on-premises-instance-tag-filters', 'Key=env,Value=nowhere,Type=KEY_AND_VALUE']));
    const { json } = await ok(aws(c, ['deploy', 'create-deployment', '--application-name', 'keep', '--deployment-group-name', 'g',
      '--s3-location', 'bucket=rev,key=deployed.zip,bundleType=zip']));
    expect(json.deploymentId).toMatch(/^d-/);
    const size = fs.statSync(bundle).size;
    await ok(aws(c, ['s3', 'rm', 's3://rev/deployed.zip']));
    const dataDir = c.dataDir;
    await c.stop();
    c = await startCoordinator({ dataDir, args: ['--config', path.join(work, 'coordinator.yml')] });
    await eventually(() => expect(c.logs()).toContain('blob sweep done'), 10_000);
    const files = fs.readdirSync(path.join(dataDir, 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.map((e) => fs.statSync(path.join(e.parentPath, e.name)).size)).toContain(size);
  }, 120_000);
});
