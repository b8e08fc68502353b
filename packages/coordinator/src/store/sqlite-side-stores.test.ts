/** The side stores' contract (testing/side-store-contract.ts) on SQLite: real database files in a temp dir. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import type { SideStores } from '../testing/side-store-contract.js';
import { defineSideStoreContract } from '../testing/side-store-contract.js';
import { createAccessKeyStore } from '../auth/access-keys.js';
import { createCertificateStore } from '../ca/certificate-store.js';
import { createAgentSessionStore } from '../fleet/agent-sessions.js';
import { createTriggerOutbox } from '../triggers/trigger-outbox.js';
import { asyncSqliteStore } from './async-store.js';
import { createBlobReferences } from './blob-references.js';
import { createBucketStore } from './bucket-store.js';
import { promised } from './promised.js';
import { openSqliteStore } from './sqlite-store.js';
import { sqliteTrafficJournal } from './traffic-store.js';

/** sideStores opens the database in `dir` on a connection of its own, as one coordinator process. */
function sideStores(dir: string, removeOnClose: boolean): SideStores {
  const store = openSqliteStore(dir);
  return {
    store: asyncSqliteStore(store),
    accessKeys: promised(createAccessKeyStore(store.db)),
    certificates: promised(createCertificateStore(store.db)),
    sessions: promised(createAgentSessionStore(store.db)),
    sessionsOf: (replicaId) => promised(createAgentSessionStore(store.db, replicaId)),
    outbox: promised(createTriggerOutbox(store.db)),
    references: promised(createBlobReferences(store.db)),
    buckets: (options) => promised(createBucketStore(store.db, options)),
    traffic: sqliteTrafficJournal(store.db),
    close: async () => {
      store.close();
      if (removeOnClose) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('SQLite side stores: the side store contract', () => {
  defineSideStoreContract(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-side-stores-'));
    return { ...sideStores(dir, true), replica: async () => sideStores(dir, false) };
  });
});
