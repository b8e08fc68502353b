/**
 * Where the coordinator keeps its blob files (bundles, bucket objects, multipart parts). On SQLite
 * they live in the data directory unless blob_dir says otherwise. Replicas on one PostgreSQL
 * database must share them: a bundle uploaded through one replica is downloaded by agents connected
 * to another, so each replica keeping blobs of its own would fail those downloads. There is no safe
 * default for a shared directory, so with `database` the operator names it.
 */
import path from 'node:path';
import type { CoordinatorConfig } from './config.js';
import { ConfigError } from './config.js';

/** BLOB_DIR_REQUIRED is the answer to a PostgreSQL start without a blob directory. */
export const BLOB_DIR_REQUIRED =
  '--database needs --blob-dir (blob_dir): a directory every replica shares (a network file system), where bundles and bucket objects are kept; with blobs in each replica\'s own data directory, a bundle uploaded to one replica could not be downloaded through another';

/** blobDirOf is where the blob files are: blob_dir, else `<data_dir>/blobs` on SQLite; refused on PostgreSQL without blob_dir. */
export function blobDirOf(config: Pick<CoordinatorConfig, 'dataDir' | 'database' | 'blobDir'>): string {
  if (config.blobDir !== undefined) return path.resolve(config.blobDir);
  if (config.database !== undefined) throw new ConfigError(BLOB_DIR_REQUIRED);
  return path.join(config.dataDir, 'blobs');
}
