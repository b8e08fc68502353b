/**
 * fleetdeploy supports Node.js 20 (README: Requirements). The AWS SDK warns on Node < 22 that its
 * releases after January 2027 will need Node 22; our programs keep that notice out of their output,
 * where it would open every command's answer. The variable that silences it is removed here, so the
 * test sees what a user's shell gives the command.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/coordinator.js';

const CLI = path.join(REPO_ROOT, 'packages/cli/bin/fleetdeploy.js');

describe('the AWS SDK notice on Node.js 20', () => {
  it('is not printed by the fleetdeploy CLI, which builds SDK clients on every call', () => {
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _silenced, ...env } = process.env;
    const r = spawnSync(process.execPath, [CLI, 'status', 'd-AAAAAAAAA', '--endpoint-url', 'http://127.0.0.1:1'], {
      env: { ...env, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE000000000', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: cannot reach the coordinator/);
    expect(r.stderr).not.toContain('NodeVersionSupportWarning');
  });
});
