/**
 * GitHub revisions in CreateDeployment: the coordinator fetches the commit's archive from the
 * configured URL (a local stand-in for codeload.github.com here) into its blob store, once per
 * commit, and refuses with CodeDeploy's exceptions when it cannot.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';
import { tarHeader } from '../../testing/crafted-tar.js';
import type { GitHubArchiveServer } from '../../testing/github-archive-server.js';
import { startGitHubArchiveServer } from '../../testing/github-archive-server.js';

const ROLE = 'arn:aws:iam::000000000000:role/fleetdeploy';
const COMMIT = '4f2c1e9ab0';
const APPSPEC = 'version: 0.0\nos: linux\nhooks:\n  ValidateService:\n    - location: check.sh\n      timeout: 42\n';
const github = (repository: string, commitId: string) => ({ revisionType: 'GitHub', gitHubLocation: { repository, commitId } });

let gh: GitHubArchiveServer;
beforeAll(async () => {
  gh = await startGitHubArchiveServer();
  await gh.commit('acme/web', COMMIT, { 'appspec.yml': APPSPEC, 'check.sh': '#!/bin/sh\nexit 0\n' });
  await gh.commit('acme/web', 'baddad0', { 'README.md': 'no appspec here\n' });
  gh.respond('acme/private', COMMIT, 401, 'Requires authentication');
  gh.respond('acme/broken', COMMIT, 502, 'Bad gateway');
  gh.respond('acme/html', COMMIT, 200, '<html>a login page</html>');
  // a header that declares 30 GiB: more than the agents' bundle limit of 20 GiB
  gh.respond('acme/huge', COMMIT, 200, zlib.gzipSync(tarHeader(`huge-${COMMIT}/zeros.bin`, 30 * 1024 ** 3)));
});
afterAll(() => gh.close());

async function withGroup(h: ApiHarness): Promise<void> {
  await h.ok('CreateApplication', { applicationName: 'app' });
  await h.ok('RegisterOnPremisesInstance', { instanceName: 'h1', iamUserArn: 'arn:aws:iam::000000000000:user/h1' });
  await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g', serviceRoleArn: ROLE, onPremisesInstanceTagFilters: [] });
}

describe('GitHub revisions', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    gh.requests.length = 0;
    h = await startApiHarness({ githubArchiveUrl: gh.template });
    await withGroup(h);
  });
  afterEach(() => h.close());

  const create = (revision: unknown) => h.call('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g', revision });

  it('fetches the commit\'s tar.gz into the blob store (inflated) at CreateDeployment, reads its hooks\' timeouts, and fetches it once', async () => {
    const r = await create(github('acme/web', COMMIT));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const d = h.store.getDeployment(r.body.deploymentId)!;
    expect(d.revision).toEqual(github('acme/web', COMMIT));
    expect(d.bundle?.bundleType).toBe('tar'); // stored inflated: agents get GitHub revisions as tar or zip
    expect(fs.statSync(h.ctx.blobs.path(d.bundle!.sha256)).size).toBe(d.bundle!.size);
    expect(d.eventTimeouts.ValidateService).toBe(42);
    expect(gh.requests).toEqual([{ path: `/acme/web/tar.gz/${COMMIT}` }]); // no token configured: no Authorization
    expect(h.engine.count('deploymentCreated')).toBe(1);
    // the revision is registered as used by the group
    const rev = await h.ok('GetApplicationRevision', { applicationName: 'app', revision: github('acme/web', COMMIT) });
    expect(rev.revisionInfo.deploymentGroups).toEqual(['g']);

    // once the first has finished, the same commit again is served from the blob store
    h.store.putDeployment({ ...d, status: 'Succeeded' });
    const again = await create(github('acme/web', COMMIT.toUpperCase()));
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(h.store.getDeployment(again.body.deploymentId)?.bundle).toEqual(d.bundle);
    expect(gh.requests).toHaveLength(1);
  });

  it.each([
    ['a commit GitHub does not have', github('acme/web', 'abcdef0'), 'RevisionDoesNotExistException', '404'],
    ['a private repository without a token', github('acme/private', COMMIT), 'GitHubAccountTokenDoesNotExistException', 'github_token'],
    ['a GitHub error', github('acme/broken', COMMIT), 'InvalidRevisionException', '502'],
    ['something that is no archive', github('acme/html', COMMIT), 'InvalidRevisionException', 'tar.gz'],
    ['an archive without an appspec', github('acme/web', 'baddad0'), 'InvalidRevisionException', 'no appspec.yml'],
    ['an archive past the bundle limits', github('acme/huge', COMMIT), 'InvalidRevisionException', 'more than the limit of 21474836480 (bundle.maxTotalBytes)'],
  ])('refuses %s and stores nothing', async (_what, revision, type, says) => {
    const r = await create(revision);
    expect(r.status).toBe(400);
    expect(r.body.__type).toBe(type);
    expect(r.body.message).toContain(says);
    expect(h.store.listDeploymentIds({})).toEqual([]);
    expect(h.engine.count('deploymentCreated')).toBe(0);
  });

  it('fetches nothing for a request that is refused anyway', async () => {
    expect((await h.refused('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'nope', revision: github('acme/web', COMMIT) })).type).toBe('DeploymentGroupDoesNotExistException');
    expect((await h.refused('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g', revision: { revisionType: 'GitHub', gitHubLocation: { repository: 'no-slash', commitId: COMMIT } } })).type).toBe('InvalidRevisionException');
    expect(gh.requests).toEqual([]);
  });
});

describe('GitHub revisions with a token', () => {
  it('sends the token as Authorization: token ...', async () => {
    gh.requests.length = 0;
    const h = await startApiHarness({ githubArchiveUrl: gh.template, githubToken: 'ghp_test' });
    try {
      await withGroup(h);
      expect((await h.call('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g', revision: github('acme/web', COMMIT) })).status).toBe(200);
      expect(gh.requests).toEqual([{ path: `/acme/web/tar.gz/${COMMIT}`, authorization: 'token ghp_test' }]);
      const r = await h.refused('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g', revision: github('acme/private', COMMIT) });
      expect(r.type).toBe('GitHubAccountTokenDoesNotExistException');
      expect(r.message).toContain('the configured github_token cannot read acme/private');
    } finally {
      await h.close();
    }
  });

  it('an unreachable archive server is InvalidRevisionException', async () => {
    const h = await startApiHarness(); // the harness's default template: a loopback port nothing listens on
    try {
      await withGroup(h);
      const r = await h.refused('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g', revision: github('acme/web', COMMIT) });
      expect(r.type).toBe('InvalidRevisionException');
      expect(r.message).toContain('cannot download acme/web@4f2c1e9ab0');
    } finally {
      await h.close();
    }
  });
});
