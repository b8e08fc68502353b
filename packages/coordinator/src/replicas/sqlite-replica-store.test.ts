import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { createAgentSessionStore } from '../fleet/agent-sessions.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { defineReplicaStoreContract } from '../testing/replica-store-contract.js';
import { sqliteReplicaStore } from './sqlite-replica-store.js';

describe('SQLite replica store: the replica store contract', () => {
  defineReplicaStoreContract(async () => {
    const store = openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-replicas-')));
    const clock = createFakeClock();
    return {
      replicas: sqliteReplicaStore(store.db, clock),
      sessionsOf: (id) => {
        const s = createAgentSessionStore(store.db, id);
        return {
          connected: async (name, version, at) => s.connected(name, version, at),
          heartbeat: async (name, at) => s.heartbeat(name, at),
          disconnected: async (name, at, lastSeen) => s.disconnected(name, at, lastSeen),
          get: async (name) => s.get(name),
        };
      },
      ttl: 30_000,
      elapse: async (ms) => clock.advance(ms),
      close: async () => store.close(),
    };
  });
});
