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
import type { AgentServer, InstanceLookup } from './agent-server.js';
import * as grpc from '@grpc/grpc-js';
import { loadAgentProtocol } from '@fleetdeploy/protocol';
import type { CoordinatorMessage__Output } from '@fleetdeploy/protocol';
import { INSTANCE_METADATA } from './agent-server.js';
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

  const start = async (sessions: AsyncAgentSessionStore, instances: InstanceLookup = asyncSqliteStore(store)): Promise<AgentServer> => {
    const config = { ...defaultCoordinatorConfig, dataDir: dir, plaintextAgents: true };
    const enrolment = await openEnrolment(config, sqliteEnrolmentStores(store, asyncSqliteStore(store)), () => Date.now());
    const identity = await enrolment.authority.issueServer(['127.0.0.1'], Date.now());
    const sync = createAgentSessionStore(store.db);
    return createAgentServer({ instances, blobs: createBlobStore(path.join(dir, 'blobs')), clock: systemClock, config, log: pino({ level: 'silent' }), enrolment, identity, sessions, sessionLookup: sync });
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

  /** stream opens an agent stream for `name` (plain text), sends Hello and a heartbeat at once, and collects what comes back until it ends. */
  const stream = (port: number, name: string): Promise<{ welcomed: boolean; code?: number; details?: string }> =>
    new Promise((resolve) => {
      const protocol = loadAgentProtocol();
      const client = new protocol.AgentService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const md = new grpc.Metadata();
      md.set(INSTANCE_METADATA, name);
      const call = client.Connect(md);
      call.on('data', (m: CoordinatorMessage__Output) => {
        if (m.welcome) {
          call.end();
          client.close();
          resolve({ welcomed: true });
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        client.close();
        resolve({ welcomed: false, code: err.code, details: err.details });
      });
      call.write({ hello: { instanceName: name, agentVersion: '1.0.0', platform: 'linux', inFlight: [], unacknowledgedResults: [] } });
      call.write({ heartbeat: { sentAtMs: String(Date.now()) } });
    });

  it('admits a stream whose instance is read asynchronously (PostgreSQL), the messages that came meanwhile waiting for it', async () => {
    store.putInstance({ instanceName: 'web-1', instanceArn: 'arn:aws:codedeploy:us-east-1:000000000000:instance/web-1', tags: [], registerTime: 0, iamUserArn: 'arn:aws:iam::0:user/web-1' });
    const slow: InstanceLookup = { getInstance: async (name) => (await new Promise((r) => setTimeout(r, 50)), store.getInstance(name)) };
    server = await start(promised(createAgentSessionStore(store.db)), slow);
    const port = await server.listen('127.0.0.1', 0);
    expect(await stream(port, 'web-1')).toEqual({ welcomed: true });
    expect(await stream(port, 'web-2')).toMatchObject({ welcomed: false, code: grpc.status.NOT_FOUND, details: expect.stringContaining('no registered on-premises instance is named web-2') });
  });

  it('refuses a stream UNAVAILABLE when its instance cannot be read, and goes on serving', async () => {
    store.putInstance({ instanceName: 'web-1', instanceArn: 'arn:aws:codedeploy:us-east-1:000000000000:instance/web-1', tags: [], registerTime: 0, iamUserArn: 'arn:aws:iam::0:user/web-1' });
    let down = true;
    const flaky: InstanceLookup = { getInstance: async (name) => (down ? Promise.reject(new Error('connection to the database lost')) : store.getInstance(name)) };
    server = await start(promised(createAgentSessionStore(store.db)), flaky);
    const port = await server.listen('127.0.0.1', 0);
    expect(await stream(port, 'web-1')).toEqual({ welcomed: false, code: grpc.status.UNAVAILABLE, details: 'the coordinator could not check the stream; retry after a backoff' });
    down = false;
    expect(await stream(port, 'web-1')).toEqual({ welcomed: true });
  });
});
