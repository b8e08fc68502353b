import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { defineLeaseStoreContract } from '../testing/lease-store-contract.js';
import { sqliteLeaseStore } from './sqlite-lease-store.js';

describe('SQLite lease store: the lease store contract', () => {
  defineLeaseStoreContract(async () => {
    const store = openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-leases-')));
    const clock = createFakeClock();
    return {
      leases: sqliteLeaseStore(store.db, clock),
      ttl: 30_000,
      elapse: async (ms) => clock.advance(ms),
      close: async () => store.close(),
    };
  });
});
