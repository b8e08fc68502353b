/**
 * Migration 4: agent enrolment. Tokens are kept as the SHA-256 of their secret, never the secret;
 * a token is used once (`used_at`). Each client certificate the CA issues is a row, so a stream's
 * certificate is accepted only while its row exists, names the same instance and is not revoked.
 *
 *   enrolment_tokens  id → instance, secret hash, created/expires/used times (ms)
 *   certificates      serial (lowercase hex) → instance, validity (ms), revoked time and reason
 */

/** migration is the enrolment schema. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 4,
  name: 'certificates',
  sql: `
CREATE TABLE enrolment_tokens (
  token_id       TEXT    NOT NULL PRIMARY KEY,
  instance_name  TEXT    NOT NULL,
  secret_sha256  TEXT    NOT NULL,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  used_at        INTEGER
) STRICT;

CREATE INDEX enrolment_tokens_instance ON enrolment_tokens(instance_name);

CREATE TABLE certificates (
  serial         TEXT    NOT NULL PRIMARY KEY,
  instance_name  TEXT    NOT NULL,
  not_before     INTEGER NOT NULL,
  not_after      INTEGER NOT NULL,
  issued_at      INTEGER NOT NULL,
  revoked_at     INTEGER,
  revoke_reason  TEXT
) STRICT;

CREATE INDEX certificates_instance ON certificates(instance_name);
`,
} as const;
