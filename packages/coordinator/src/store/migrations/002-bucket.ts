/**
 * Migration 2: the revision bucket's tables. Object bytes live in the blob store; these rows say
 * which key names which blob. Keys compare with SQLite's BINARY collation, which for UTF-8 text is
 * S3's listing order (UTF-8 byte order).
 *
 *   bucket_buckets       one row per bucket
 *   bucket_objects       (bucket, key) → blob sha256, size, ETag, content type, last modified (ms)
 *   bucket_uploads       multipart uploads in progress
 *   bucket_upload_parts  (upload, part number) → blob sha256, size, ETag
 *
 * Deleting goes child-first in the store's own transactions, so nothing depends on
 * `PRAGMA foreign_keys` being on.
 */

/**
 * migration is the bucket schema, for the migration runner to apply after version 1 (the core tables).
 * Append-only: change the schema with a new migration, never by editing this one.
 */
export const migration = {
  version: 2,
  name: 'bucket',
  sql: `
CREATE TABLE bucket_buckets (
  name        TEXT    NOT NULL PRIMARY KEY,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE bucket_objects (
  bucket        TEXT    NOT NULL REFERENCES bucket_buckets(name),
  key           TEXT    NOT NULL,
  sha256        TEXT    NOT NULL,
  size          INTEGER NOT NULL,
  etag          TEXT    NOT NULL,
  content_type  TEXT    NOT NULL,
  last_modified INTEGER NOT NULL,
  PRIMARY KEY (bucket, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX bucket_objects_sha256 ON bucket_objects(sha256);

CREATE TABLE bucket_uploads (
  upload_id     TEXT    NOT NULL PRIMARY KEY,
  bucket        TEXT    NOT NULL REFERENCES bucket_buckets(name),
  key           TEXT    NOT NULL,
  content_type  TEXT    NOT NULL,
  initiated     INTEGER NOT NULL
) STRICT;

CREATE INDEX bucket_uploads_bucket ON bucket_uploads(bucket, key);

CREATE TABLE bucket_upload_parts (
  upload_id     TEXT    NOT NULL REFERENCES bucket_uploads(upload_id),
  part_number   INTEGER NOT NULL,
  sha256        TEXT    NOT NULL,
  size          INTEGER NOT NULL,
  etag          TEXT    NOT NULL,
  last_modified INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)
) STRICT, WITHOUT ROWID;

CREATE INDEX bucket_upload_parts_sha256 ON bucket_upload_parts(sha256);
`,
} as const;
