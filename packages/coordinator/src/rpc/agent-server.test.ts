/**
 * The agent server's start over a real SQLite store and CA (plain-text agents): the sessions an
 * earlier process left open are closed before it listens, and a failure to close them fails the start.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import { promised } from '../store/promised.js';
import { createAgentSessionStore } from '../fleet/agent-sessions.js';
import { createBlobStore } from '../artifacts/blob-store.js';
import { openEnrolment, sqliteEnrolmentStores } from '../ca/open-enrolment.js';
import { defaultCoordinatorConfig } from '../config.js';
import { systemClock } from '../clock.js';
import { createAgentServer } from './agent-server.js';
import type { AgentServer } from './agent-server.js';
import type { AsyncAgentSessionStore } from '../store/pg/pg-side-stores.js';

describe('agent server start', () => {
  let dir: string;
  let store: SqliteStore;
  let server: AgentServer | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-agent-server-'));
    store = openSqliteStore(dir);
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = async (sessions: AsyncAgentSessionStore): Promise<AgentServer> => {
    const config = { ...defaultCoordinatorConfig, dataDir: dir, plaintextAgents: true };
    const enrolment = await openEnrolment(config, sqliteEnrolmentStores(store, asyncSqliteStore(store)), () => Date.now());
    const identity = await enrolment.authority.issueServer(['127.0.0.1'], Date.now());
    const sync = createAgentSessionStore(store.db);
    return createAgentServer({ instances: asyncSqliteStore(store), blobs: createBlobStore(path.join(dir, 'blobs')), clock: systemClock, config, log: pino({ level: 'silent' }), enrolment, identity, sessions, sessionLookup: sync });
  };

  it('closes the sessions an earlier process left open before it listens', async () => {
    const sessions = createAgentSessionStore(store.db);
    sessions.connected('web-1', '1.0.0', 1000);
    sessions.heartbeat('web-1', 2000);
    server = await start(promised(sessions));
    expect(await server.listen('127.0.0.1', 0)).toBeGreaterThan(0);
    expect(sessions.get('web-1')).toMatchObject({ disconnectedAt: 2000 });
    expect(server.offlineSince?.('web-1')).toBe(2000);
  });

  it('fails to listen, with the store\'s error, when those sessions cannot be closed', async () => {
    const real = promised(createAgentSessionStore(store.db));
    const broken = { ...real, closeAbandoned: () => Promise.reject(new Error('connection to the database lost')) };
    const failing = await start(broken);
    await expect(failing.listen('127.0.0.1', 0)).rejects.toThrow('connection to the database lost');
    await failing.close();
  });
});
