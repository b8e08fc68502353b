/**
 * A stand-in for codeload.github.com on 127.0.0.1 port 0: it serves GitHub-shaped archives (one top
 * folder `<repo>-<commit>/` around the files) at `/<owner>/<repo>/tar.gz/<commit>`, answers 404 for
 * commits it does not have, and records each request's path and Authorization header. Point a
 * coordinator's `github_archive_url` at {@link GitHubArchiveServer.template}.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { create as createTar } from 'tar';

/** ArchiveFiles maps a path inside the repository to its content; `.sh` files are made executable. */
export type ArchiveFiles = Record<string, string>;

/** GitHubArchiveServer is a running stand-in. */
export interface GitHubArchiveServer {
  /** `http://127.0.0.1:<port>/{repository}/tar.gz/{commitId}`. */
  template: string;
  /** Each request: path and Authorization header. */
  readonly requests: { path: string; authorization?: string }[];
  /** commit makes `files` the archive of `repository@commitId`. */
  commit(repository: string, commitId: string, files: ArchiveFiles): Promise<void>;
  /** respond makes one path answer with a fixed status and body instead (errors, non-archives). */
  respond(repository: string, commitId: string, status: number, body: string | Buffer): void;
  close(): Promise<void>;
}

/** startGitHubArchiveServer starts a {@link GitHubArchiveServer}. */
export async function startGitHubArchiveServer(): Promise<GitHubArchiveServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-github-'));
  const archives = new Map<string, Buffer>();
  const fixed = new Map<string, { status: number; body: string | Buffer }>();
  const requests: GitHubArchiveServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    requests.push({ path: url, ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}) });
    const answer = fixed.get(url);
    if (answer !== undefined) {
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
      return;
    }
    const archive = archives.get(url);
    if (archive === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404: Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-gzip', 'content-length': archive.length }).end(archive);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const key = (repository: string, commitId: string) => `/${repository}/tar.gz/${commitId}`;

  return {
    template: `${base}/{repository}/tar.gz/{commitId}`,
    requests,
    async commit(repository, commitId, files) {
      const top = `${repository.split('/')[1]}-${commitId}`;
      const root = fs.mkdtempSync(path.join(dir, 'src-'));
      for (const [name, content] of Object.entries(files)) {
        const file = path.join(root, top, name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
      }
      const out = path.join(dir, `${top}.tar.gz`);
      await createTar({ gzip: true, file: out, cwd: root, portable: true }, [top]);
      archives.set(key(repository, commitId), fs.readFileSync(out));
    },
    respond(repository, commitId, status, body) {
      fixed.set(key(repository, commitId), { status, body });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
