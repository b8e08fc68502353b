/**
 * The CA of coordinator replicas sharing one PostgreSQL database. Agents enrol with one replica and
 * connect to any, so every replica must trust and issue from one CA: it is kept in the database
 * (migration 18, beside the access keys' secrets), made by the first replica that finds none.
 * Replicas racing on an empty database each try one insert that keeps an existing row, and all then
 * use the row that won. A CA a replica already has (the operator's ca_cert_file/ca_key_file, or its
 * data directory's `ca/`) becomes the shared one when there is none yet, and must be it otherwise: a
 * replica is never started with a CA that differs from its peers'. The data directory keeps a copy,
 * where the operator and clients of the HTTPS API find the CA certificate as on SQLite.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Authority, AuthorityPems, CaFiles } from './authority.js';
import { CA_CERT_FILE, CA_DIR, CA_KEY_FILE, CaConfigError, fingerprintOf, generateAuthority, installAuthorityFiles, loadAuthority, openAuthority } from './authority.js';

/** SharedAuthorityRow is where the shared CA is kept: one row, written once. */
export interface SharedAuthorityRow {
  read(): Promise<AuthorityPems | undefined>;
  /** insert writes the CA unless one is kept already (then it does nothing). */
  insert(pems: AuthorityPems, now: number): Promise<void>;
}

/** localAuthority is the CA this replica was given: the operator's files, else its data directory's, else none. */
function localAuthority(dataDir: string | undefined, files: CaFiles): { pems: AuthorityPems; where: string } | undefined {
  if (files.certFile !== undefined || files.keyFile !== undefined) {
    if (files.certFile === undefined || files.keyFile === undefined) throw new CaConfigError('ca_cert_file and ca_key_file go together: give both or neither');
    return { pems: { certPem: readText(files.certFile, 'ca_cert_file'), keyPem: readText(files.keyFile, 'ca_key_file') }, where: `ca_cert_file ${files.certFile}` };
  }
  if (dataDir === undefined) return undefined;
  const dir = path.join(dataDir, CA_DIR);
  if (!fs.existsSync(path.join(dir, CA_KEY_FILE))) return undefined;
  return { pems: { certPem: fs.readFileSync(path.join(dir, CA_CERT_FILE), 'utf8'), keyPem: fs.readFileSync(path.join(dir, CA_KEY_FILE), 'utf8') }, where: dir };
}

function readText(file: string, key: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CaConfigError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** fingerprintOrNote is a certificate's fingerprint, or a note that it does not parse. */
function fingerprintOrNote(certPem: string): string {
  try {
    return fingerprintOf(certPem);
  } catch {
    return 'unreadable';
  }
}

/**
 * openSharedAuthority loads the database's CA, making it from this replica's (or a new one) when
 * there is none. `dataDir` is the replica's data directory, which keeps a copy; undefined for a
 * command that has none (`enrol-token --database`).
 */
export async function openSharedAuthority(row: SharedAuthorityRow, dataDir: string | undefined, files: CaFiles, now: number): Promise<Authority> {
  const local = localAuthority(dataDir, files);
  let shared = await row.read();
  if (shared === undefined) {
    await row.insert(local?.pems ?? (await generateAuthority(now)), now);
    shared = await row.read();
    if (shared === undefined) throw new Error('the shared CA was written but cannot be read back');
  }
  if (local !== undefined && local.pems.certPem.trim() !== shared.certPem.trim()) {
    throw new CaConfigError(
      `the CA in ${local.where} (fingerprint ${fingerprintOrNote(local.pems.certPem)}) is not the CA the replicas on this database share (fingerprint ${fingerprintOrNote(shared.certPem)}): ` +
        (files.certFile !== undefined ? 'give every replica the same ca_cert_file and ca_key_file' : `move ${local.where} away to use the shared CA`),
    );
  }
  // The operator's files: read as on SQLite (which copies the certificate into the data directory).
  if (dataDir === undefined) return loadAuthority(shared.certPem, shared.keyPem);
  if (files.certFile !== undefined) return openAuthority(dataDir, files, now);
  if (local === undefined) installAuthorityFiles(dataDir, shared);
  return loadAuthority(shared.certPem, shared.keyPem);
}
