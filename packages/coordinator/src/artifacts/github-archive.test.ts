import { describe, expect, it } from 'vitest';
import { archiveBundleType, archiveUrl, checkArchiveUrlTemplate, DEFAULT_GITHUB_ARCHIVE_URL } from './github-archive.js';

describe('GitHub archive URL templates', () => {
  it.each([
    [DEFAULT_GITHUB_ARCHIVE_URL, undefined],
    ['https://api.github.com/repos/{owner}/{repo}/tarball/{commitId}', undefined],
    ['http://127.0.0.1:8080/{repository}/tar.gz/{commitId}', undefined],
    ['ftp://example.com/{repository}/{commitId}', 'expected an http:// or https:// URL'],
    ['https://codeload.github.com/{repository}/tar.gz/main', 'the URL must contain {commitId}'],
    ['https://codeload.github.com/{owner}/tar.gz/{commitId}', 'the URL must contain {repository}, or {owner} and {repo}'],
    ['https://codeload.github.com/{repository}/{ref}/{commitId}', 'unknown placeholder {ref} (known: {repository}, {owner}, {repo}, {commitId})'],
  ])('%s → %s', (template, problem) => {
    expect(checkArchiveUrlTemplate(template)).toBe(problem);
  });

  it('fills every placeholder in, encoded', () => {
    expect(archiveUrl(DEFAULT_GITHUB_ARCHIVE_URL, { repository: 'acme/web.site', commitId: 'abc1234' })).toBe('https://codeload.github.com/acme/web.site/tar.gz/abc1234');
    expect(archiveUrl('https://h/{owner}/{repo}/{repository}/{commitId}', { repository: 'a/b', commitId: 'f00' })).toBe('https://h/a/b/a/b/f00');
  });

  it('downloads zips when the template asks for one, tar.gz otherwise', () => {
    expect(archiveBundleType(DEFAULT_GITHUB_ARCHIVE_URL)).toBe('tgz');
    expect(archiveBundleType('https://api.github.com/repos/{repository}/zipball/{commitId}')).toBe('zip');
    expect(archiveBundleType('https://codeload.github.com/{repository}/zip/{commitId}')).toBe('zip');
    expect(archiveBundleType('https://mirror.example/{repository}/{commitId}.zip')).toBe('zip');
    expect(archiveBundleType('https://zipper.example/{repository}/{commitId}.tgz')).toBe('tgz');
  });
});
