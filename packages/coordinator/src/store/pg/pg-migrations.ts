/**
 * The store's migrations written for PostgreSQL: the same versions, names, tables and columns
 * as the SQLite ones (store/migrations), so the two stores hold the same data the same way. What
 * differs, and why:
 *
 * - Times in milliseconds and sequence numbers are BIGINT (SQLite's INTEGER is 64-bit already).
 * - Records stay JSON text in `doc TEXT`, not jsonb: jsonb reorders keys, and a record must read
 *   back exactly as SQLite gives it (JSON.parse of the text that was written).
 * - Insertion order, which SQLite takes from rowid or MAX(seq)+1, comes from sequences: MAX(seq)+1
 *   would hand two concurrent writers the same number. A sequence's numbers increase across
 *   replicas; a rolled-back transaction leaves a gap, which no reader depends on.
 * - `bucket_*` keys are compared byte-wise (COLLATE "C"), S3's listing order as in SQLite's BINARY.
 * - Migration 8's expression index reads the doc as jsonb (text::jsonb is immutable).
 *
 * Append-only, like the SQLite list: a change is a new entry with the next version, in both lists.
 */
import type { Migration } from '../migrations/index.js';

/** pgMigrations in the order they apply; versions and names match `migrations` (a test checks). */
export const pgMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'core',
    sql: `
CREATE TABLE applications (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE instances (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE deployment_groups (
  application TEXT NOT NULL, name TEXT NOT NULL, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL,
  PRIMARY KEY (application, name));
CREATE TABLE deployment_configs (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE revisions (
  application TEXT NOT NULL, revision_key TEXT NOT NULL, register_time BIGINT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (application, revision_key));
CREATE SEQUENCE deployments_seq;
CREATE TABLE deployments (
  id TEXT PRIMARY KEY, application TEXT NOT NULL, group_name TEXT NOT NULL, status TEXT NOT NULL,
  create_time BIGINT NOT NULL, seq BIGINT NOT NULL DEFAULT nextval('deployments_seq'), doc TEXT NOT NULL);
CREATE INDEX deployments_by_group ON deployments (application, group_name, seq);
CREATE INDEX deployments_by_status ON deployments (status, seq);
CREATE SEQUENCE deployment_targets_seq;
CREATE TABLE deployment_targets (
  deployment_id TEXT NOT NULL, target_id TEXT NOT NULL, seq BIGINT NOT NULL DEFAULT nextval('deployment_targets_seq'), doc TEXT NOT NULL,
  PRIMARY KEY (deployment_id, target_id));
CREATE SEQUENCE commands_seq;
CREATE TABLE commands (
  id TEXT PRIMARY KEY, instance TEXT NOT NULL, open INTEGER NOT NULL, seq BIGINT NOT NULL DEFAULT nextval('commands_seq'), doc TEXT NOT NULL);
CREATE INDEX open_commands ON commands (open, instance);
CREATE TABLE instance_health (
  group_id TEXT NOT NULL, instance TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (group_id, instance));
`,
  },
  {
    version: 2,
    name: 'bucket',
    sql: `
CREATE TABLE bucket_buckets (
  name        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  created_at  BIGINT NOT NULL);
CREATE TABLE bucket_objects (
  bucket        TEXT COLLATE "C" NOT NULL REFERENCES bucket_buckets(name),
  key           TEXT COLLATE "C" NOT NULL,
  sha256        TEXT   NOT NULL,
  size          BIGINT NOT NULL,
  etag          TEXT   NOT NULL,
  content_type  TEXT   NOT NULL,
  last_modified BIGINT NOT NULL,
  PRIMARY KEY (bucket, key));
CREATE INDEX bucket_objects_sha256 ON bucket_objects(sha256);
CREATE TABLE bucket_uploads (
  upload_id     TEXT NOT NULL PRIMARY KEY,
  bucket        TEXT COLLATE "C" NOT NULL REFERENCES bucket_buckets(name),
  key           TEXT COLLATE "C" NOT NULL,
  content_type  TEXT NOT NULL,
  initiated     BIGINT NOT NULL);
CREATE INDEX bucket_uploads_bucket ON bucket_uploads(bucket, key);
CREATE TABLE bucket_upload_parts (
  upload_id     TEXT    NOT NULL REFERENCES bucket_uploads(upload_id),
  part_number   INTEGER NOT NULL,
  sha256        TEXT    NOT NULL,
  size          BIGINT  NOT NULL,
  etag          TEXT    NOT NULL,
  last_modified BIGINT  NOT NULL,
  PRIMARY KEY (upload_id, part_number));
CREATE INDEX bucket_upload_parts_sha256 ON bucket_upload_parts(sha256);
`,
  },
  {
    version: 3,
    name: 'access-keys',
    sql: `
CREATE TABLE access_keys (
  id          TEXT   NOT NULL PRIMARY KEY,
  secret      TEXT   NOT NULL,
  role        TEXT   NOT NULL CHECK (role IN ('admin', 'deployer', 'read-only')),
  created_at  BIGINT NOT NULL,
  revoked_at  BIGINT);
`,
  },
  {
    version: 4,
    name: 'certificates',
    sql: `
CREATE TABLE enrolment_tokens (
  token_id       TEXT   NOT NULL PRIMARY KEY,
  instance_name  TEXT   NOT NULL,
  secret_sha256  TEXT   NOT NULL,
  created_at     BIGINT NOT NULL,
  expires_at     BIGINT NOT NULL,
  used_at        BIGINT);
CREATE INDEX enrolment_tokens_instance ON enrolment_tokens(instance_name);
CREATE TABLE certificates (
  serial         TEXT   NOT NULL PRIMARY KEY,
  instance_name  TEXT   NOT NULL,
  not_before     BIGINT NOT NULL,
  not_after      BIGINT NOT NULL,
  issued_at      BIGINT NOT NULL,
  revoked_at     BIGINT,
  revoke_reason  TEXT);
CREATE INDEX certificates_instance ON certificates(instance_name);
`,
  },
  {
    version: 5,
    name: 'resource-tags',
    sql: `
CREATE TABLE resource_tags (
  resource_id TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  value       TEXT    NOT NULL,
  position    INTEGER NOT NULL,
  PRIMARY KEY (resource_id, key));
`,
  },
  {
    version: 6,
    name: 'traffic-shifts',
    sql: `
CREATE TABLE traffic_shifts (
  deployment_id TEXT NOT NULL PRIMARY KEY,
  doc           TEXT NOT NULL);
`,
  },
  {
    version: 7,
    name: 'agent-sessions',
    sql: `
CREATE TABLE agent_sessions (
  instance_name      TEXT   NOT NULL PRIMARY KEY,
  agent_version      TEXT   NOT NULL,
  connected_at       BIGINT NOT NULL,
  last_heartbeat_at  BIGINT NOT NULL,
  disconnected_at    BIGINT);
CREATE INDEX deployment_targets_by_target ON deployment_targets (target_id, seq);
`,
  },
  {
    version: 8,
    name: 'blob-references',
    sql: `
CREATE INDEX deployments_by_bundle ON deployments (((doc::jsonb) #>> '{bundle,sha256}'));
`,
  },
  {
    version: 9,
    name: 'trigger-deliveries',
    sql: `
CREATE TABLE trigger_deliveries (
  event_id        TEXT   NOT NULL PRIMARY KEY,
  deployment_id   TEXT   NOT NULL,
  trigger_name    TEXT   NOT NULL,
  trigger_event   TEXT   NOT NULL,
  target          TEXT   NOT NULL,
  subject         TEXT   NOT NULL,
  body            TEXT   NOT NULL,
  created_at      BIGINT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  state           TEXT   NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  last_error      TEXT,
  finished_at     BIGINT);
CREATE INDEX trigger_deliveries_due ON trigger_deliveries (state, next_attempt_at);
`,
  },
  {
    version: 10,
    name: 'deployment-schedules',
    sql: `
CREATE SEQUENCE deployment_schedules_seq;
CREATE TABLE deployment_schedules (
  schedule_id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL DEFAULT nextval('deployment_schedules_seq'),
  doc TEXT NOT NULL);
`,
  },
  {
    // deployments.rev is SQLite's check for its cache of parsed deployments; this store keeps no such
    // cache yet, but the column is here so both schemas stay the same.
    version: 11,
    name: 'fleet-indexes',
    sql: `
CREATE TABLE instance_tags (
  instance TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (instance, key, value));
CREATE INDEX instance_tags_by_key_value ON instance_tags (key, value);
CREATE INDEX instance_tags_by_value ON instance_tags (value);
INSERT INTO instance_tags (instance, key, value)
  SELECT i.name, t->>'Key', t->>'Value'
  FROM instances i, jsonb_array_elements((i.doc::jsonb)->'tags') t
  WHERE (i.doc::jsonb)->>'deregisterTime' IS NULL
  ON CONFLICT DO NOTHING;
CREATE INDEX registered_instances_by_user_arn ON instances (((doc::jsonb)->>'iamUserArn'))
  WHERE (doc::jsonb)->>'deregisterTime' IS NULL;
CREATE INDEX registered_instances_by_session_arn ON instances (((doc::jsonb)->>'iamSessionArn'))
  WHERE (doc::jsonb)->>'deregisterTime' IS NULL;
CREATE INDEX active_deployments ON deployments (seq)
  WHERE status NOT IN ('Succeeded', 'Failed', 'Stopped');
ALTER TABLE deployments ADD COLUMN rev TEXT;
`,
  },
  {
    // Expiry in epoch milliseconds of the database's clock (lease/pg-lease-store.ts), as BIGINT.
    version: 12,
    name: 'leases',
    sql: `
CREATE TABLE leases (
  name TEXT NOT NULL PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  generation BIGINT NOT NULL);
`,
  },
  {
    version: 13,
    name: 'target-status',
    sql: `
ALTER TABLE deployment_targets ADD COLUMN status TEXT NOT NULL DEFAULT '';
UPDATE deployment_targets SET status = COALESCE((doc::jsonb)->>'status', '');
CREATE INDEX deployment_targets_by_status ON deployment_targets (deployment_id, status);
`,
  },
  {
    version: 14,
    name: 'target-status-names',
    sql: `
DROP INDEX deployment_targets_by_status;
CREATE INDEX deployment_targets_by_status ON deployment_targets (deployment_id, status, target_id);
`,
  },
  {
    version: 15,
    name: 'trigger-claims',
    sql: `
ALTER TABLE trigger_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE trigger_deliveries ADD COLUMN claimed_until BIGINT;
`,
  },
  {
    version: 16,
    name: 'agent-session-holders',
    sql: `
ALTER TABLE agent_sessions ADD COLUMN held_by TEXT;
`,
  },
  {
    version: 17,
    name: 'replicas',
    sql: `
CREATE TABLE replicas (
  id TEXT NOT NULL PRIMARY KEY,
  started_at BIGINT NOT NULL,
  api_url TEXT NOT NULL,
  agent_address TEXT NOT NULL,
  alive_until BIGINT NOT NULL);
`,
  },
  {
    version: 18,
    name: 'certificate-authority',
    sql: `
CREATE TABLE certificate_authority (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  cert_pem TEXT NOT NULL,
  key_pem TEXT NOT NULL,
  created_at BIGINT NOT NULL);
`,
  },
  {
    version: 19,
    name: 'pending-reports',
    sql: `
CREATE TABLE pending_reports (
  seq BIGSERIAL PRIMARY KEY,
  deployment_id TEXT NOT NULL,
  instance TEXT NOT NULL,
  command_id TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  doc TEXT NOT NULL);
CREATE INDEX pending_reports_by_deployment ON pending_reports (deployment_id, seq);
`,
  },
  {
    version: 20,
    name: 'unique-instance-arns',
    sql: `
CREATE UNIQUE INDEX registered_instances_unique_user_arn ON instances (((doc::jsonb)->>'iamUserArn'))
  WHERE (doc::jsonb)->>'deregisterTime' IS NULL AND (doc::jsonb)->>'iamUserArn' IS NOT NULL;
CREATE UNIQUE INDEX registered_instances_unique_session_arn ON instances (((doc::jsonb)->>'iamSessionArn'))
  WHERE (doc::jsonb)->>'deregisterTime' IS NULL AND (doc::jsonb)->>'iamSessionArn' IS NOT NULL;
`,
  },
];
