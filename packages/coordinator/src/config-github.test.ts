import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from './config.js';
import { DEFAULT_GITHUB_ARCHIVE_URL } from './artifacts/github-archive.js';

describe('GitHub settings', () => {
  it('default to codeload.github.com and no token', () => {
    const c = resolveConfig(undefined, '', {});
    expect(c.githubArchiveUrl).toBe(DEFAULT_GITHUB_ARCHIVE_URL);
    expect(c.githubToken).toBeUndefined();
  });

  it('read github_archive_url and github_token from the file', () => {
    const c = resolveConfig('github_archive_url: http://127.0.0.1:9000/{owner}/{repo}/zipball/{commitId}\ngithub_token: ghp_x\n', 'c.yml', {});
    expect(c.githubArchiveUrl).toBe('http://127.0.0.1:9000/{owner}/{repo}/zipball/{commitId}');
    expect(c.githubToken).toBe('ghp_x');
  });

  it('refuse a template without the commit, naming the file and key', () => {
    expect(() => resolveConfig('github_archive_url: https://codeload.github.com/{repository}/tar.gz/main\n', 'c.yml', {})).toThrow(ConfigError);
    expect(() => resolveConfig('github_archive_url: https://codeload.github.com/{repository}/tar.gz/main\n', 'c.yml', {})).toThrow(/c\.yml: github_archive_url: the URL must contain \{commitId\}/);
    expect(() => resolveConfig('github_token: ""\n', 'c.yml', {})).toThrow(/github_token: expected a non-empty text/);
  });
});
