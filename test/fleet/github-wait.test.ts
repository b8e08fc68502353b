/**
 * A GitHub revision deployed to real agents, waited on with `aws deploy wait deployment-successful`
 * (the stock CLI's waiter polls GetDeployment every 15 seconds until Succeeded, or fails at Failed or
 * Stopped). GitHub is a local stand-in serving GitHub-shaped tar.gz archives (one top folder), which
 * the coordinator is configured to fetch from with `github_archive_url`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, FleetWorld } from './fleet-world.js';
import type { GitHubArchiveServer } from '../../packages/coordinator/src/testing/github-archive-server.js';
import { startGitHubArchiveServer } from '../../packages/coordinator/src/testing/github-archive-server.js';
import { describeWithTools } from '../harness/system-tools.js';

describeWithTools(['aws'], 'GitHub revisions waited on with the stock AWS CLI', () => {
  const GOOD = '1111111aaaa';
  const BAD = '2222222bbbb';
  const appspec = (validate: string) => ['version: 0.0', 'os: linux', 'files:', '  - source: site', '    destination: /srv/gh', 'hooks:', '  ValidateService:', `    - location: ${validate}`, '      timeout: 30', ''].join('\n');

  const world = new FleetWorld();
  let gh: GitHubArchiveServer;

  beforeAll(async () => {
    gh = await startGitHubArchiveServer();
    await gh.commit('acme/site', GOOD, { 'appspec.yml': appspec('hooks/ok.sh'), 'site/index.html': `<h1>${GOOD}</h1>\n`, 'hooks/ok.sh': '#!/bin/sh\nsleep 3\nexit 0\n' });
    await gh.commit('acme/site', BAD, { 'appspec.yml': appspec('hooks/fail.sh'), 'site/index.html': `<h1>${BAD}</h1>\n`, 'hooks/fail.sh': '#!/bin/sh\nsleep 3\necho "not healthy" >&2\nexit 1\n' });
    const config = path.join(world.dir, 'coordinator.yml');
    fs.writeFileSync(config, `github_archive_url: ${gh.template}\n`);
    await world.start(2, ['--config', config]);
    await world.group('gh-ok', 'CodeDeployDefault.AllAtOnce', ['--on-premises-instance-tag-filters', 'Key=role,Value=web,Type=KEY_AND_VALUE']);
    await world.group('gh-bad', 'CodeDeployDefault.AllAtOnce', ['--on-premises-instance-tag-filters', 'Key=role,Value=api,Type=KEY_AND_VALUE']);
  }, 60_000);
  afterAll(async () => {
    await world.stop();
    await gh.close();
  });

  const deployGitHub = async (group: string, commitId: string): Promise<string> =>
    (await world.cliOk(['deploy', 'create-deployment', '--application-name', APP, '--deployment-group-name', group, '--github-location', `repository=acme/site,commitId=${commitId}`])).json.deploymentId as string;

  describe('a GitHub revision and `aws deploy wait deployment-successful`', () => {
    it('the waiter returns 0 once the deployment of a good commit succeeds, and fails for one whose ValidateService fails', async () => {
      // given two GitHub commits, one whose ValidateService fails, each deployed to its own agent
      const [ok, bad] = await Promise.all([deployGitHub('gh-ok', GOOD), deployGitHub('gh-bad', BAD)]);
      // when the stock CLI waits on each while they run (ValidateService takes 3 s; the waiter polls every 15 s)
      expect((await world.deployment(ok)).status).not.toBe('Succeeded');
      const [waitOk, waitBad] = await Promise.all([
        world.cli(['deploy', 'wait', 'deployment-successful', '--deployment-id', ok]),
        world.cli(['deploy', 'wait', 'deployment-successful', '--deployment-id', bad]),
      ]);
      // then the good one's wait exits 0 with the deployment Succeeded and the commit's files installed
      expect(waitOk.code, `${waitOk.stderr}\n${await world.failures(ok)}`).toBe(0);
      expect((await world.deployment(ok)).status).toBe('Succeeded');
      expect(fs.readFileSync(path.join(world.agent('sim-1').filesDir, 'srv/gh/index.html'), 'utf8')).toBe(`<h1>${GOOD}</h1>\n`);
      // and the failing one's wait exits non-zero on the terminal Failed state
      expect(waitBad.code).not.toBe(0);
      expect(waitBad.stderr).toMatch(/Waiter DeploymentSuccessful failed/);
      expect((await world.deployment(bad)).status).toBe('Failed');
      // each commit was fetched once, by the coordinator
      expect(gh.requests.map((r) => r.path).sort()).toEqual([`/acme/site/tar.gz/${GOOD}`, `/acme/site/tar.gz/${BAD}`]);
    }, 120_000);

    it('refuses a commit GitHub does not have before anything is deployed', async () => {
      const r = await world.cli(['deploy', 'create-deployment', '--application-name', APP, '--deployment-group-name', 'gh-ok', '--github-location', 'repository=acme/site,commitId=deadbee']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('(RevisionDoesNotExistException)');
      expect(r.stderr).toContain('404');
      // and the waiter on an unknown deployment fails at once rather than polling
      const w = await world.cli(['deploy', 'wait', 'deployment-successful', '--deployment-id', 'd-NOPE00000']);
      expect(w.code).not.toBe(0);
      expect(w.stderr).toContain('DeploymentDoesNotExistException');
    }, 60_000);
  });
});
