/**
 * The README's Troubleshooting section shows the exact lines users see: each is built here by the
 * code that prints it, with the default ports, and must be in the README word for word.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { wrongPortMessage } from '../packages/agent/src/connection/enrol-address.js';
import { agentPortMessage, notTlsMessage, untrustedMessage, wrongNameMessage } from '../packages/cli/src/endpoint-diagnosis.js';
import { missingProfileMessage, NO_CREDENTIALS_MESSAGE } from '../packages/cli/src/credential-hints.js';
import { corruptDatabase, emptyDatabaseMessage } from '../packages/coordinator/src/store/database-file.js';
import { DISK_FULL_MESSAGE } from '../packages/coordinator/src/store/disk-full.js';
import { explainFailure } from '../packages/cli/src/aws-failure.js';
import { PLAIN_HTTP_ERROR, plainHttpMessage } from '../packages/coordinator/src/api/plain-http-answer.js';
import { REPO_ROOT } from './harness/coordinator.js';

const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const troubleshooting = readme.slice(readme.indexOf('\n## Troubleshooting\n'));

describe('README Troubleshooting', () => {
  it('lists the wrong-port and credential messages as printed', async () => {
    const lines = [
      wrongPortMessage('127.0.0.1:7180', 'api'),
      wrongPortMessage('127.0.0.1:7181', 'agents'),
      notTlsMessage('https://127.0.0.1:7180', 'http://127.0.0.1:7180'),
      agentPortMessage('127.0.0.1:7181'),
      untrustedMessage('https://127.0.0.1:7180', 'SELF_SIGNED_CERT_IN_CHAIN'),
      wrongNameMessage('https://127.0.0.1:7180', '127.0.0.1'),
      (await missingProfileMessage(undefined, { AWS_PROFILE: 'nosuchprofile', AWS_SHARED_CREDENTIALS_FILE: '', AWS_CONFIG_FILE: '' }))!,
      NO_CREDENTIALS_MESSAGE,
    ];
    const dataDir = '/var/lib/fleetdeploy';
    const file = `${dataDir}/coordinator.db`;
    lines.push(corruptDatabase(file, dataDir, 'database disk image is malformed').message);
    lines.push(emptyDatabaseMessage(file, dataDir));
    // what `fleetdeploy app create shop` prints when the coordinator answers 507 StorageFullException
    const storageFull = Object.assign(new Error(DISK_FULL_MESSAGE), { name: 'StorageFullException', $metadata: { httpStatusCode: 507 } });
    lines.push(explainFailure('CreateApplication shop', storageFull, 'http://127.0.0.1:7180').message);
    // what `fleetdeploy status d-...` prints when given http:// for the HTTPS API (the coordinator's own answer)
    const plain = Object.assign(new Error(plainHttpMessage('127.0.0.1:7180')), { name: PLAIN_HTTP_ERROR, $metadata: { httpStatusCode: 400 } });
    lines.push(explainFailure('GetDeployment d-...', plain, 'http://127.0.0.1:7180').message);
    expect(troubleshooting.length).toBeGreaterThan(30);
    for (const line of lines) expect(troubleshooting).toContain(`\`ERROR: ${line}\``);
  });
});
