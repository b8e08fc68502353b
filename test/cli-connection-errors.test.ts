/**
 * `fleetdeploy` pointed at the wrong port of a coordinator, or with credentials it cannot find: one
 * line that says what is wrong and what to use, never an OpenSSL error or a bare "no credentials".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { expectOneErrorLine, runCli, userEnvironment } from './harness/cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-cli-conn-'));
let coordinator: CoordinatorProcess;
let plaintext: CoordinatorProcess;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  [coordinator, plaintext] = await Promise.all([startCoordinator(), startCoordinator({ args: ['--plaintext-api'] })]);
  env = userEnvironment(coordinator, dir);
}, 60_000);
afterAll(async () => {
  await Promise.all([coordinator?.stop(), plaintext?.stop()]);
});

const status = (extra: NodeJS.ProcessEnv, ...flags: string[]) => runCli([...flags, 'status', 'd-AAAAAAAAA'], { ...env, ...extra }, dir);

describe('the wrong port as --endpoint-url', () => {
  it('https:// on a --plaintext-api API', async () => {
    const https = plaintext.apiUrl.replace('http:', 'https:');
    expectOneErrorLine(await status({}, '--endpoint-url', https), new RegExp(`^ERROR: ${https} does not speak TLS: the coordinator serves its API in plain HTTP \\(--plaintext-api\\); use --endpoint-url ${plaintext.apiUrl}$`));
  });

  it('http:// on the HTTPS API: the coordinator answers what to use', async () => {
    const http = coordinator.apiUrl.replace('https:', 'http:');
    expect(coordinator.apiUrl).toMatch(/^https:/);
    expectOneErrorLine(await status({}, '--endpoint-url', http), new RegExp(`^ERROR: GetDeployment d-AAAAAAAAA: PlainHttpToHttpsPort: this port serves HTTPS: use ${coordinator.apiUrl.replace(/\./g, '\\.')} as the endpoint`));
  });

  it.each([
    ['the agents\' port', 'http', () => coordinator.agentAddress],
    ['the agents\' port over https', 'https', () => coordinator.agentAddress],
    ['the enrolment port', 'http', () => coordinator.enrolAddress],
  ])('%s', async (_what, scheme, address) => {
    expectOneErrorLine(
      await status({}, '--endpoint-url', `${scheme}://${address()}`),
      new RegExp(`^ERROR: ${address()} is one of the coordinator's ports for agents \\(gRPC over TLS\\), not its API: use the api= address of its listening line \\(https://, port 7180 by default\\)$`),
    );
  });
});

describe('credentials', () => {
  it('a profile that is in neither shared file is named as missing', async () => {
    expectOneErrorLine(await status({ AWS_PROFILE: 'nosuchprofile' }), /^ERROR: the AWS profile "nosuchprofile" \(from AWS_PROFILE\) is in neither .*admin-credentials nor .*config: check its name, or unset AWS_PROFILE/);
    expectOneErrorLine(await status({}, '--profile', 'typo'), /^ERROR: the AWS profile "typo" \(from --profile\) is in neither /);
  });

  it('no credentials at all: the line names <data_dir>/admin-credentials', async () => {
    expectOneErrorLine(await status({ AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none') }), /^ERROR: no credentials: set AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or AWS_SHARED_CREDENTIALS_FILE=<data_dir>\/admin-credentials /);
  });
});
