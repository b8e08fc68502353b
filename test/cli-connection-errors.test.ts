/**
 * `fleetdeploy` pointed at the wrong port of a coordinator, or with credentials it cannot find: one
 * line that says what is wrong and what to use, never an OpenSSL error or a bare "no credentials".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { expectOneErrorLine, runCli, userEnvironment } from './harness/cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-cli-conn-'));
let coordinator: CoordinatorProcess;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  coordinator = await startCoordinator();
  env = userEnvironment(coordinator, dir);
}, 60_000);
afterAll(async () => {
  await coordinator?.stop();
});

const status = (extra: NodeJS.ProcessEnv, ...flags: string[]) => runCli([...flags, 'status', 'd-AAAAAAAAA'], { ...env, ...extra }, dir);

describe('the wrong port as --endpoint-url', () => {
  it('https:// on the plain-HTTP API', async () => {
    const https = coordinator.apiUrl.replace('http:', 'https:');
    expectOneErrorLine(await status({}, '--endpoint-url', https), new RegExp(`^ERROR: ${https} does not speak TLS: the coordinator serves its API in plain HTTP; use --endpoint-url ${coordinator.apiUrl}$`));
  });

  it.each([
    ['the agents\' port', 'http', () => coordinator.agentAddress],
    ['the agents\' port over https', 'https', () => coordinator.agentAddress],
    ['the enrolment port', 'http', () => coordinator.enrolAddress],
  ])('%s', async (_what, scheme, address) => {
    expectOneErrorLine(
      await status({}, '--endpoint-url', `${scheme}://${address()}`),
      new RegExp(`^ERROR: ${address()} is one of the coordinator's ports for agents \\(gRPC over TLS\\), not its API: use the api= address of its listening line \\(plain http://, port 7180 by default\\)$`),
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
