import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { BLOB_DIR_REQUIRED, blobDirOf } from './blob-dir.js';

describe('blob_dir', () => {
  it('defaults to <data_dir>/blobs on SQLite; blob_dir (file or flag, the flag winning) moves it', () => {
    expect(blobDirOf(resolveConfig(undefined, '', { dataDir: '/var/lib/fd' }))).toBe('/var/lib/fd/blobs');
    expect(blobDirOf(resolveConfig('blob_dir: /srv/blobs\n', 'c.yml', {}))).toBe('/srv/blobs');
    expect(blobDirOf(resolveConfig('blob_dir: /srv/blobs\n', 'c.yml', { blobDir: 'shared/blobs' }))).toBe(path.resolve('shared/blobs'));
  });

  it('is required with a PostgreSQL database, and refused empty', () => {
    expect(() => blobDirOf(resolveConfig(undefined, '', { database: 'postgres://fd@db/fleet' }))).toThrow(BLOB_DIR_REQUIRED);
    expect(blobDirOf(resolveConfig(undefined, '', { database: 'postgres://fd@db/fleet', blobDir: '/mnt/shared/blobs' }))).toBe('/mnt/shared/blobs');
    expect(() => resolveConfig('blob_dir: ""\n', 'c.yml', {})).toThrow('c.yml: blob_dir: expected a non-empty text');
  });
});
