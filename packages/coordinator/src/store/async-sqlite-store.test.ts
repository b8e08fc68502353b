import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { asyncSqliteStore } from './async-store.js';
import { openSqliteStore } from './sqlite-store.js';
import { defineStoreContract } from '../testing/store-contract.js';

describe('SQLite store through the asynchronous adapter: the store contract', () => {
  defineStoreContract(
    async () => {
      const store = asyncSqliteStore(openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-async-sqlite-'))));
      return { store, replica: async () => store };
    },
    { concurrentTransactions: false },
  );
});
