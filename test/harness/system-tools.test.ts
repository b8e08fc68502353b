/**
 * How a suite that needs system tools behaves on a machine without them: skipped with one line naming
 * the Debian packages, or failed when CI says every tool must be there. Runs vitest itself on a fixture
 * with a PATH that holds no tools.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagesFor, REQUIRE_ENV, toolsRequired } from './system-tools.js';
import { skipLine } from './summary-reporter.js';

const repo = path.resolve(import.meta.dirname, '../..');
const VITEST = path.join(repo, 'node_modules/vitest/vitest.mjs');
const CONFIG = path.join(repo, 'test/fixtures/system-tools/vitest.config.ts');

function runFixture(extraEnv: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const env = { HOME: process.env.HOME, PATH: path.join(repo, 'no-such-bin'), FLEETDEPLOY_AWS_CLI: '/nonexistent/aws', ...extraEnv };
  const r = spawnSync(process.execPath, [VITEST, 'run', '--config', CONFIG], { cwd: repo, env, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('system tools a test needs', () => {
  it('names each Debian package once', () => {
    expect(packagesFor(['setfacl', 'getfacl', 'zip', 'aws'])).toEqual(['acl', 'zip', 'awscli']);
  });

  it('says nothing when no test was skipped for a tool, and one line when some were', () => {
    expect(skipLine(0, new Set())).toBeUndefined();
    expect(skipLine(1, new Set(['zip']))).toBe('skipped 1 test that need system tools not installed here; to run them: apt-get install zip');
    expect(skipLine(3, new Set(['zip', 'acl']))).toBe('skipped 3 tests that need system tools not installed here; to run them: apt-get install acl zip');
  });

  it('requires every tool only when CI asks', () => {
    expect(toolsRequired({})).toBe(false);
    expect(toolsRequired({ [REQUIRE_ENV]: '0' })).toBe(false);
    expect(toolsRequired({ [REQUIRE_ENV]: '1' })).toBe(true);
  });

  it('skips what needs a missing tool, passes the rest and ends with the packages to install', () => {
    const r = runFixture({});
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('tests: 1 passed, 0 failed, 3 skipped');
    expect(r.out).toContain('skipped 3 tests that need system tools not installed here; to run them: apt-get install acl unzip zip');
  });

  it(`fails each suite that lacks a tool under ${REQUIRE_ENV}=1, naming the tool and its package`, () => {
    const r = runFixture({ [REQUIRE_ENV]: '1' });
    expect(r.status, r.out).toBe(1);
    expect(r.out).toContain('tests: 1 passed, 2 failed, 0 skipped');
    expect(r.out).toContain('zip, unzip not installed (Debian packages: zip unzip)');
  });
});
