/**
 * One certificate authority for every coordinator a test run starts (vitest's globalSetup makes it).
 * The harness puts it in each new data directory before the coordinator's first start, as if that
 * coordinator had made it there, so the coordinator issues its HTTPS API certificate from it; and the
 * test workers trust it through NODE_EXTRA_CA_CERTS, read when each worker process starts. So the
 * tests' own SDK clients, fetch and WebSocket calls speak HTTPS to any coordinator without each one
 * naming a CA, while the stock AWS CLI and `fleetdeploy` are given it explicitly (AWS_CA_BUNDLE), as
 * a user gives them theirs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CA_CERT_FILE, CA_DIR, CA_KEY_FILE, openAuthority } from '../../packages/coordinator/src/ca/authority.js';

/** TEST_CA_DIR_ENV names the folder that holds the run's CA (`ca/ca.pem`, `ca/ca-key.pem`). */
export const TEST_CA_DIR_ENV = 'FLEETDEPLOY_TEST_CA_DIR';

/** testCaFile is the run's CA certificate, or undefined outside a vitest run of this repository. */
export function testCaFile(): string | undefined {
  const dir = process.env[TEST_CA_DIR_ENV];
  return dir === undefined ? undefined : path.join(dir, CA_DIR, CA_CERT_FILE);
}

/** seedTestCa copies the run's CA into a data directory that has none yet (modes as the coordinator makes them). */
export function seedTestCa(dataDir: string): void {
  const dir = process.env[TEST_CA_DIR_ENV];
  const target = path.join(dataDir, CA_DIR);
  if (dir === undefined || fs.existsSync(target)) return;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(target, { mode: 0o700 });
  fs.copyFileSync(path.join(dir, CA_DIR, CA_CERT_FILE), path.join(target, CA_CERT_FILE));
  fs.chmodSync(path.join(target, CA_CERT_FILE), 0o644);
  fs.copyFileSync(path.join(dir, CA_DIR, CA_KEY_FILE), path.join(target, CA_KEY_FILE));
  fs.chmodSync(path.join(target, CA_KEY_FILE), 0o600);
}

/** setup (vitest globalSetup) makes the CA before any worker starts, so the workers inherit the variables. */
export default async function setup(): Promise<() => void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-test-ca-'));
  await openAuthority(dir, {}, Date.now());
  process.env[TEST_CA_DIR_ENV] = dir;
  const caFile = path.join(dir, CA_DIR, CA_CERT_FILE);
  process.env.NODE_EXTRA_CA_CERTS = caFile;
  // A machine-wide AWS_CA_BUNDLE (some machines name the system's roots there) is what `fleetdeploy`
  // run with the tests' own environment trusts instead of the defaults: add the run's CA to it.
  const machineBundle = process.env.AWS_CA_BUNDLE;
  if (machineBundle !== undefined && machineBundle !== '' && fs.existsSync(machineBundle)) {
    const combined = path.join(dir, 'aws-ca-bundle.pem');
    fs.writeFileSync(combined, `${fs.readFileSync(machineBundle, 'utf8').trimEnd()}\n${fs.readFileSync(caFile, 'utf8')}`);
    process.env.AWS_CA_BUNDLE = combined;
  }
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
