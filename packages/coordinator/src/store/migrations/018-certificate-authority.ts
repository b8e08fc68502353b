/**
 * Migration 18: the CA shared by coordinator replicas on one PostgreSQL database (issue 13;
 * ca/shared-authority.ts). One row, written once by the first replica that finds none:
 *
 *   id          always 1 (the CHECK makes a second row impossible)
 *   cert_pem    the CA certificate
 *   key_pem     its private key (the database already holds the access keys' secrets)
 *   created_at  when it was stored, epoch milliseconds
 *
 * On SQLite the table stays empty: a coordinator that runs alone keeps its CA in `<data_dir>/ca/`.
 */

/** migration is the certificate_authority table. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 18,
  name: 'certificate-authority',
  sql: `
CREATE TABLE certificate_authority (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  cert_pem TEXT NOT NULL,
  key_pem TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
`,
} as const;
