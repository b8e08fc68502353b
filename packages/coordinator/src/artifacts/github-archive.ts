/**
 * GitHub revisions as archive downloads: a `gitHubLocation {repository, commitId}` becomes the
 * commit's archive (a tar.gz, or a zip when the URL template asks for one), fetched once into the
 * blob store and then served to agents like any uploaded bundle. GitHub wraps an archive in one top
 * folder (`<repo>-<commit>/`); the agent looks for the AppSpec inside it, as AWS's agent does.
 *
 * A tar.gz is stored inflated, as a `tar` bundle: the deployment specification CodeDeploy's agents
 * receive names a GitHub revision's bundle `tar` or `zip`, and the agent unpacks `tar` as it is.
 *
 * The URL comes from a template (config `github_archive_url`) with these placeholders:
 *
 *   {repository}  account/name, as in the revision       e.g. acme/web
 *   {owner}       the account part                       e.g. acme
 *   {repo}        the name part                          e.g. web
 *   {commitId}    the commit as given                    e.g. 4f2c1e9
 *
 *   https://codeload.github.com/{repository}/tar.gz/{commitId}         (the default: tgz)
 *   https://api.github.com/repos/{repository}/zipball/{commitId}       (zip)
 *
 * With a token (config `github_token`) each request carries `Authorization: token <token>`, which
 * private repositories need.
 *
 * A downloaded archive is held in the blob store for as long as it is cached (the process's life):
 * CreateDeployment reads it and commits the deployment that references it well after the download,
 * and the blob collector must not take it in between. An archive no deployment came to name is freed
 * by the first sweep after a restart.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Logger } from 'pino';
import type { BlobStore } from './blob-store.js';
import type { BundleRef } from '../store/records.js';
import { BundleLimitError, readBundleAppSpec } from './bundle-appspec.js';

/** DEFAULT_GITHUB_ARCHIVE_URL is where GitHub serves a commit's tar.gz. */
export const DEFAULT_GITHUB_ARCHIVE_URL = 'https://codeload.github.com/{repository}/tar.gz/{commitId}';

/** GITHUB_TOKEN_NAME is the name ListGitHubAccountTokenNames shows for the configured token: its config key. */
export const GITHUB_TOKEN_NAME = 'github_token';

/** MAX_ARCHIVE_BYTES bounds one downloaded archive (2 GiB, far above any sane revision). */
export const MAX_ARCHIVE_BYTES = 2 * 1024 ** 3;

/** FETCH_TIMEOUT_MS bounds one download, from request to last byte. */
export const FETCH_TIMEOUT_MS = 120_000;

/** GitHubArchiveErrorCodes are the ways a download fails; the API maps each to a CodeDeploy exception. */
export const GitHubArchiveErrorCodes = ['NOT_FOUND', 'UNAUTHORIZED', 'UNREACHABLE', 'BAD_STATUS', 'NOT_AN_ARCHIVE', 'NO_APPSPEC', 'TOO_LARGE'] as const;
export type GitHubArchiveErrorCode = (typeof GitHubArchiveErrorCodes)[number];

/** GitHubArchiveError is a failed download: `code` says which kind, the message says what happened and where. */
export class GitHubArchiveError extends Error {
  readonly code: GitHubArchiveErrorCode;
  constructor(code: GitHubArchiveErrorCode, message: string) {
    super(message);
    this.name = 'GitHubArchiveError';
    this.code = code;
  }
}

/** isGitHubArchiveError tells a {@link GitHubArchiveError} by shape. */
export function isGitHubArchiveError(err: unknown): err is GitHubArchiveError {
  return err instanceof Error && err.name === 'GitHubArchiveError' && typeof (err as GitHubArchiveError).code === 'string';
}

/** GitHubLocation is CodeDeploy's GitHubLocation, already validated. */
export interface GitHubLocation {
  repository: string;
  commitId: string;
}

/** GitHubArchives is what the API needs of GitHub: archives as bundles, and the configured connections. */
export interface GitHubArchives {
  /**
   * bundle stores the commit's archive in the blob store and returns it as a bundle; concurrent and
   * later calls for the same repository and commit share one download. Rejects with a
   * {@link GitHubArchiveError}; a failure is not remembered, so a retry downloads again.
   */
  bundle(location: GitHubLocation): Promise<BundleRef>;
  /** tokenNames are the GitHub connections the coordinator has: {@link GITHUB_TOKEN_NAME} when a token is configured. */
  readonly tokenNames: readonly string[];
}

/** GitHubArchiveOptions configure {@link createGitHubArchives}. */
export interface GitHubArchiveOptions {
  blobs: BlobStore;
  /** The archive URL template; see the module comment. Check it first with {@link checkArchiveUrlTemplate}. */
  urlTemplate: string;
  token?: string;
  log?: Logger;
  /** The fetch to use (tests may pass their own); the global one by default. */
  fetch?: typeof fetch;
}

/** checkArchiveUrlTemplate returns what is wrong with a URL template, or undefined when it is usable. */
export function checkArchiveUrlTemplate(template: string): string | undefined {
  if (!/^https?:\/\/[^/{}]+/.test(template)) return 'expected an http:// or https:// URL';
  if (!template.includes('{commitId}')) return 'the URL must contain {commitId}';
  if (!template.includes('{repository}') && !(template.includes('{owner}') && template.includes('{repo}'))) return 'the URL must contain {repository}, or {owner} and {repo}';
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).find((p) => !['repository', 'owner', 'repo', 'commitId'].includes(p ?? ''));
  if (unknown !== undefined) return `unknown placeholder {${unknown}} (known: {repository}, {owner}, {repo}, {commitId})`;
  return undefined;
}

/** archiveBundleType is the bundle type a template downloads: zip when it asks for a zip, else tgz. */
export function archiveBundleType(template: string): 'zip' | 'tgz' {
  return /zipball|\/zip\/|\.zip(?:$|[?#])/.test(template) ? 'zip' : 'tgz';
}

/** archiveUrl fills a template in for one commit. */
export function archiveUrl(template: string, location: GitHubLocation): string {
  const [owner = '', repo = ''] = location.repository.split('/');
  const values: Record<string, string> = { repository: `${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`, owner: encodeURIComponent(owner), repo: encodeURIComponent(repo), commitId: encodeURIComponent(location.commitId) };
  return template.replace(/\{(repository|owner|repo|commitId)\}/g, (_, name: string) => values[name] ?? '');
}

/** createGitHubArchives makes the {@link GitHubArchives} of one coordinator. */
export function createGitHubArchives(options: GitHubArchiveOptions): GitHubArchives {
  const { blobs, urlTemplate, token, log } = options;
  const doFetch = options.fetch ?? fetch;
  const format = archiveBundleType(urlTemplate);
  const bundleType = format === 'zip' ? 'zip' : 'tar';
  const cache = new Map<string, Promise<BundleRef>>();

  async function download(location: GitHubLocation): Promise<BundleRef> {
    const url = archiveUrl(urlTemplate, location);
    const what = `${location.repository}@${location.commitId}`;
    const headers: Record<string, string> = { 'user-agent': 'fleetdeploy-coordinator', accept: '*/*' };
    if (token !== undefined) headers.authorization = `token ${token}`;
    let res: Response;
    try {
      res = await doFetch(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new GitHubArchiveError('UNREACHABLE', `cannot download ${what} from ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      const hint = token === undefined ? '; if the repository is private, configure github_token' : '';
      throw new GitHubArchiveError('NOT_FOUND', `${url} answered 404: no commit ${location.commitId} in ${location.repository}, or the repository is not visible${hint}`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new GitHubArchiveError('UNAUTHORIZED', token === undefined ? `${url} answered ${res.status}: ${location.repository} needs a GitHub token; configure github_token` : `${url} answered ${res.status}: the configured github_token cannot read ${location.repository}`);
    }
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      throw new GitHubArchiveError('BAD_STATUS', `${url} answered ${res.status} ${res.statusText} for ${what}`);
    }
    const body = format === 'zip' ? res.body : Readable.fromWeb(res.body as WebReadableStream<Uint8Array>).pipe(zlib.createGunzip());
    let size = 0;
    const info = await blobs.putHeld(
      (async function* limited() {
        for await (const chunk of body as AsyncIterable<Uint8Array>) {
          size += chunk.length;
          if (size > MAX_ARCHIVE_BYTES) throw new GitHubArchiveError('TOO_LARGE', `the archive of ${what} is larger than ${MAX_ARCHIVE_BYTES} bytes`);
          yield chunk;
        }
      })(),
    ).catch((err: unknown) => {
      if (isGitHubArchiveError(err)) throw err;
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('Z_')) throw new GitHubArchiveError('NOT_AN_ARCHIVE', `${url} did not give a tar.gz archive for ${what}: ${(err as Error).message}`);
      throw new GitHubArchiveError('UNREACHABLE', `the download of ${what} from ${url} broke off: ${(err as Error).message}`);
    });
    try {
      return await checkArchive(info.sha256, info.size, url, what, location);
    } catch (err) {
      info.release(); // a refused archive is the collector's
      throw err;
    }
  }

  async function checkArchive(sha256: string, size: number, url: string, what: string, location: GitHubLocation): Promise<BundleRef> {
    const info = { sha256, size };
    const magic = Buffer.alloc(262);
    const fd = await fs.promises.open(blobs.path(info.sha256));
    await fd.read(magic, 0, magic.length, 0).finally(() => fd.close());
    if (!(bundleType === 'zip' ? magic.subarray(0, 2).toString('latin1') === 'PK' : magic.subarray(257, 262).toString('latin1') === 'ustar')) {
      throw new GitHubArchiveError('NOT_AN_ARCHIVE', `${url} did not give a ${format === 'zip' ? 'zip' : 'tar.gz'} archive for ${what}`);
    }
    let appspec: string | undefined;
    try {
      appspec = await readBundleAppSpec(blobs.path(info.sha256), bundleType);
    } catch (err) {
      if (err instanceof BundleLimitError) throw new GitHubArchiveError('TOO_LARGE', `the archive of ${what} is refused: ${err.message}`);
      throw new GitHubArchiveError('NOT_AN_ARCHIVE', `${url} did not give a ${format === 'zip' ? 'zip' : 'tar.gz'} archive for ${what}: ${(err as Error).message}`);
    }
    if (appspec === undefined) throw new GitHubArchiveError('NO_APPSPEC', `the archive of ${what} has no appspec.yml at its top or in its top folder`);
    log?.info({ repository: location.repository, commitId: location.commitId, sha256: info.sha256, size: info.size }, 'github archive stored');
    return { sha256: info.sha256, size: info.size, bundleType };
  }

  return {
    tokenNames: token === undefined ? [] : [GITHUB_TOKEN_NAME],
    bundle(location) {
      const key = `${location.repository.toLowerCase()}@${location.commitId.toLowerCase()}`;
      let pending = cache.get(key);
      if (pending === undefined) {
        pending = download(location);
        cache.set(key, pending);
        pending.catch(() => cache.delete(key));
      }
      return pending;
    },
  };
}
