import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, openSqliteStore } from '../store/sqlite-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { ACCESS_KEY_ID_PATTERN, createAccessKeyStore, newAccessKeyId, newSecretAccessKey, restrictDataDir } from './access-keys.js';
import { promised } from '../store/promised.js';
import { ADMIN_CREDENTIALS_FILE, ensureAdminKey, readCredentialsFile } from './admin-credentials.js';

let dir: string;
let store: SqliteStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-keys-'));
  store = openSqliteStore(dir);
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('access key ids and secrets', () => {
  it('are shaped as AWS\'s: AKIA + 16 base32 (20 characters), and 40 characters of base64', () => {
    const ids = new Set(Array.from({ length: 200 }, newAccessKeyId));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(ACCESS_KEY_ID_PATTERN);
    expect(newSecretAccessKey()).toMatch(/^[A-Za-z0-9+/]{40}$/);
  });
});

// Creating, reading and revoking keys is the side store contract's (testing/side-store-contract.ts).
describe('createAccessKeyStore', () => {
  it('refuses a role the schema does not know', () => {
    expect(() => store.db.prepare("INSERT INTO access_keys (id, secret, role, created_at) VALUES ('AKIAX', 's', 'root', 0)").run()).toThrow(/CHECK/);
  });
});

describe('restrictDataDir', () => {
  it('makes the data directory 0700 and the database files 0600', () => {
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, DATABASE_FILE), 0o644);
    restrictDataDir(dir, DATABASE_FILE);
    expect(mode(dir)).toBe(0o700);
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith(DATABASE_FILE))) expect(mode(path.join(dir, f))).toBe(0o600);
  });
});

describe('ensureAdminKey', () => {
  it('makes one admin key on the first start and writes it once, 0600, as a credentials file', async () => {
    const keys = promised(createAccessKeyStore(store.db));
    const first = (await ensureAdminKey(dir, keys, 42))!;
    const file = path.join(dir, ADMIN_CREDENTIALS_FILE);
    expect(first.file).toBe(file);
    expect(mode(file)).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toBe(`[default]\naws_access_key_id = ${first.key.id}\naws_secret_access_key = ${first.key.secret}\n`);
    expect(readCredentialsFile(file)).toEqual({ accessKeyId: first.key.id, secretAccessKey: first.key.secret });
    expect((await keys.get(first.key.id))?.role).toBe('admin');
    const before = fs.statSync(file);
    expect(await ensureAdminKey(dir, keys, 43)).toBeUndefined();
    expect(fs.statSync(file).mtimeMs).toBe(before.mtimeMs);
    expect(await keys.count()).toBe(1);
  });

  it('leaves things alone when keys exist, even with no file', async () => {
    const keys = promised(createAccessKeyStore(store.db));
    await keys.create('deployer', 1);
    expect(await ensureAdminKey(dir, keys, 2)).toBeUndefined();
    expect(fs.existsSync(path.join(dir, ADMIN_CREDENTIALS_FILE))).toBe(false);
  });

  it('refuses to overwrite a file left from a removed database', async () => {
    fs.writeFileSync(path.join(dir, ADMIN_CREDENTIALS_FILE), 'old');
    await expect(ensureAdminKey(dir, promised(createAccessKeyStore(store.db)), 1)).rejects.toThrow(expect.objectContaining({ name: 'StaleCredentialsError' }));
    expect(fs.readFileSync(path.join(dir, ADMIN_CREDENTIALS_FILE), 'utf8')).toBe('old');
  });
});
