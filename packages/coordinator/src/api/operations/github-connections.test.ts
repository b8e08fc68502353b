import { describe, expect, it } from 'vitest';
import { startApiHarness } from '../../testing/api-harness.js';

describe('GitHub connections', () => {
  it('without a github_token there are none, and none can be deleted', async () => {
    const h = await startApiHarness();
    try {
      expect(await h.ok('ListGitHubAccountTokenNames', {})).toEqual({ tokenNameList: [] });
      expect((await h.refused('ListGitHubAccountTokenNames', { nextToken: 'x' })).type).toBe('InvalidNextTokenException');
      expect((await h.refused('DeleteGitHubAccountToken', {})).type).toBe('GitHubAccountTokenNameRequiredException');
      expect((await h.refused('DeleteGitHubAccountToken', { tokenName: 7 })).type).toBe('InvalidGitHubAccountTokenNameException');
      expect((await h.refused('DeleteGitHubAccountToken', { tokenName: 'mine' })).type).toBe('GitHubAccountTokenDoesNotExistException');
    } finally {
      await h.close();
    }
  });

  it('a configured github_token is listed under that name and is removed from the configuration, not the API', async () => {
    const h = await startApiHarness({ githubToken: 'ghp_secret' });
    try {
      expect(await h.ok('ListGitHubAccountTokenNames', {})).toEqual({ tokenNameList: ['github_token'] });
      const r = await h.refused('DeleteGitHubAccountToken', { tokenName: 'github_token' });
      expect(r.type).toBe('OperationNotSupportedException');
      expect(r.message).toContain('configuration');
      expect(r.message).not.toContain('ghp_secret');
    } finally {
      await h.close();
    }
  });
});
