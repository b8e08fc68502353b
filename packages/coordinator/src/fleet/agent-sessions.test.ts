import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { createAgentSessionStore } from './agent-sessions.js';

describe('agent sessions', () => {
  let store: SqliteStore;
  afterEach(() => store.close());

  it('keeps the latest session of each instance: connected, heartbeats, disconnected, reconnected', () => {
    store = openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-sessions-')));
    const sessions = createAgentSessionStore(store.db);
    expect(sessions.get('web-01')).toBeUndefined();
    sessions.connected('web-01', '0.1.0', 1_000);
    sessions.heartbeat('web-01', 11_000);
    expect(sessions.get('web-01')).toEqual({ instanceName: 'web-01', agentVersion: '0.1.0', connectedAt: 1_000, lastHeartbeatAt: 11_000 });
    sessions.disconnected('web-01', 20_000, 15_000);
    sessions.heartbeat('web-01', 21_000); // a late heartbeat of an ended session changes nothing
    expect(sessions.get('web-01')).toMatchObject({ lastHeartbeatAt: 15_000, disconnectedAt: 20_000 });
    sessions.connected('web-01', '0.2.0', 30_000);
    expect(sessions.get('web-01')).toEqual({ instanceName: 'web-01', agentVersion: '0.2.0', connectedAt: 30_000, lastHeartbeatAt: 30_000 });
  });

  it('records a batch of heartbeats at once, leaving ended sessions as they were', () => {
    store = openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-sessions-')));
    const sessions = createAgentSessionStore(store.db);
    sessions.connected('web-01', '0.1.0', 1_000);
    sessions.connected('web-02', '0.1.0', 1_000);
    sessions.disconnected('web-02', 5_000, 4_000);
    sessions.heartbeats(new Map([['web-01', 9_000], ['web-02', 9_000], ['web-03', 9_000]]));
    expect(sessions.get('web-01')).toMatchObject({ lastHeartbeatAt: 9_000 });
    expect(sessions.get('web-02')).toMatchObject({ lastHeartbeatAt: 4_000, disconnectedAt: 5_000 });
    expect(sessions.get('web-03')).toBeUndefined();
  });

  it('a coordinator that starts closes the sessions its previous process left open, at their last heartbeat', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-sessions-'));
    store = openSqliteStore(dir);
    const before = createAgentSessionStore(store.db);
    before.connected('web-01', '0.1.0', 1_000);
    before.heartbeat('web-01', 5_000);
    before.connected('web-02', '0.1.0', 1_000);
    before.disconnected('web-02', 3_000, 2_000);
    store.close(); // killed with web-01 connected

    store = openSqliteStore(dir);
    const after = createAgentSessionStore(store.db);
    expect(after.closeAbandoned()).toBe(1);
    expect(after.get('web-01')).toMatchObject({ disconnectedAt: 5_000 });
    expect(after.get('web-02')).toMatchObject({ disconnectedAt: 3_000 });
  });
});
