import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBlobStore } from './blob-store.js';
import { archiveBundleType, archiveUrl, checkArchiveUrlTemplate, createGitHubArchives, DEFAULT_GITHUB_ARCHIVE_URL } from './github-archive.js';
import { startGitHubArchiveServer } from '../testing/github-archive-server.js';

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

describe('GitHub archives and the blob collector', () => {
  it('holds a downloaded archive while it is cached, and releases a refused one to the collector', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-github-hold-'));
    const server = await startGitHubArchiveServer();
    try {
      const released: string[] = [];
      const blobs = createBlobStore(path.join(dir, 'blobs'), undefined, { released: (sha) => released.push(sha) });
      const github = createGitHubArchives({ blobs, urlTemplate: server.template });
      await server.commit('acme/web', 'c0ffee1', { 'appspec.yml': 'version: 0.0\nos: linux\n' });
      const bundle = await github.bundle({ repository: 'acme/web', commitId: 'c0ffee1' });
      expect(await blobs.remove(bundle.sha256, () => true)).toBeUndefined(); // held: CreateDeployment has not committed yet
      expect(released).toEqual([]);

      await server.commit('acme/web', 'bad0001', { 'README.md': 'no appspec here\n' });
      await expect(github.bundle({ repository: 'acme/web', commitId: 'bad0001' })).rejects.toMatchObject({ code: 'NO_APPSPEC' });
      expect(released).toHaveLength(1);
      expect(await blobs.remove(released[0]!, () => true)).toBeGreaterThan(0);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
