/**
 * The CodeDeploy API on a real HTTP server, for tests: a real SQLite store (the API reads it through
 * asyncSqliteStore, as the coordinator's does; tests use it directly), bucket and blob store in
 * a temporary directory, the operation table served on 127.0.0.1 port 0, a settable clock and an
 * engine that only records what the API asked of it. Each test file builds its own.
 */
import { sqliteScheduleStores } from '../store/schedule-store.js';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Clock, Timer } from '../clock.js';
import type { Operation } from '../api/codedeploy.js';
import { createCodeDeployApi, FLEETDEPLOY_TARGET_PREFIX, TARGET_PREFIX } from '../api/codedeploy.js';
import { fleetOperations } from '../api/operations/fleet-instances.js';
import type { AgentSessionStore } from '../fleet/agent-sessions.js';
import { createAgentSessionStore } from '../fleet/agent-sessions.js';
import type { ApiContext, DeploymentEngine, InstanceIdentities } from '../api/context.js';
import { operations as allOperations } from '../api/operations/index.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import { createBucketStore } from '../store/bucket-store.js';
import { promised } from '../store/promised.js';
import { createBlobStore } from '../artifacts/blob-store.js';
import { createTrafficStore } from '../store/traffic-store.js';
import { uncheckedCodeDeployGuard } from './unchecked-guards.js';
import { createGitHubArchives } from '../artifacts/github-archive.js';

/** EngineCall is one call the API made into the engine. */
export type EngineCall =
  | { call: 'deploymentCreated'; deploymentId: string }
  | { call: 'stopRequested'; deploymentId: string; autoRollbackEnabled: boolean }
  | { call: 'fleetChanged' }
  | { call: 'resolveInstanceFailure'; deploymentId: string };

/** RecordingEngine is a {@link DeploymentEngine} that records its calls and drives nothing. */
export interface RecordingEngine extends DeploymentEngine {
  readonly calls: EngineCall[];
  /** count tells how many calls of one kind were made. */
  count(call: EngineCall['call']): number;
  /** What resolveInstanceFailure answers (notHeld unless a test sets it). */
  resolveOutcome: Awaited<ReturnType<DeploymentEngine['resolveInstanceFailure']>>;
}

/** createRecordingEngine makes a {@link RecordingEngine}; stopRequested answers `Pending`. */
export function createRecordingEngine(): RecordingEngine {
  const calls: EngineCall[] = [];
  const engine: RecordingEngine = {
    calls,
    resolveOutcome: 'notHeld',
    count: (call) => calls.filter((c) => c.call === call).length,
    deploymentCreated: async (deploymentId) => void calls.push({ call: 'deploymentCreated', deploymentId }),
    stopRequested: async (deploymentId, autoRollbackEnabled) => {
      calls.push({ call: 'stopRequested', deploymentId, autoRollbackEnabled });
      return 'Pending';
    },
    fleetChanged: () => void calls.push({ call: 'fleetChanged' }),
    hookReported: async () => 'unknownExecution',
    // Nothing is driven here, so no instance is ever held (unless a test says otherwise).
    resolveInstanceFailure: async (deploymentId) => (calls.push({ call: 'resolveInstanceFailure', deploymentId }), engine.resolveOutcome),
    stillRunningOn: () => [],
  };
  return engine;
}

/** RecordingIdentities is an {@link InstanceIdentities} that records its calls, mints `token-<name>` and enrols on 7182. */
export interface RecordingIdentities extends InstanceIdentities {
  readonly calls: { call: 'registered' | 'deregistered'; instanceName: string }[];
}

/** createRecordingIdentities makes a {@link RecordingIdentities}. */
export function createRecordingIdentities(): RecordingIdentities {
  const calls: RecordingIdentities['calls'] = [];
  return {
    calls,
    registered: (instanceName) => {
      calls.push({ call: 'registered', instanceName });
      return Promise.resolve(`token-${instanceName}`);
    },
    deregistered: (instanceName) => {
      calls.push({ call: 'deregistered', instanceName });
      return Promise.resolve();
    },
    enrolmentPort: () => 7182,
  };
}

/** SettableClock is a clock whose time a test sets or advances; its timers never fire. */
export interface SettableClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

/** createSettableClock starts a {@link SettableClock} at `start` epoch milliseconds. */
export function createSettableClock(start = Date.UTC(2024, 0, 1)): SettableClock {
  let now = start;
  const idle: Timer = { cancel: () => undefined };
  return {
    now: () => now,
    setTimeout: () => idle,
    set: (ms) => void (now = ms),
    advance: (ms) => void (now += ms),
  };
}

/** CallResult is one raw API answer: HTTP status and the decoded JSON body. */
export interface CallResult {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** ApiHarness is a served API and what is behind it. */
export interface ApiHarness {
  /** `http://127.0.0.1:<port>`, for the AWS CLI's --endpoint-url and the SDK. */
  endpoint: string;
  ctx: ApiContext;
  store: SqliteStore;
  engine: RecordingEngine;
  clock: SettableClock;
  dataDir: string;
  /** The agents' sessions behind `ctx.agents` (a test connects and disconnects agents here). */
  sessions: AgentSessionStore;
  /** The instances whose agent has a live stream to this coordinator (`ctx.agents.connected`); none unless a test adds them. */
  live: Set<string>;
  /** Certificate expiry times by instance behind `ctx.agents` (epoch ms). */
  certificates: Map<string, number>;
  /** call POSTs one operation as the SDKs do (X-Amz-Target, JSON 1.1) and returns the answer. */
  call(operation: string, input?: Record<string, unknown>): Promise<CallResult>;
  /** ok calls and fails the test unless the answer is 200; returns the body. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ok(operation: string, input?: Record<string, unknown>): Promise<any>;
  /** refused calls, expects a 400, and returns the exception name (`__type`) and message. */
  refused(operation: string, input?: Record<string, unknown>): Promise<{ type: string; message: string }>;
  close(): Promise<void>;
}

/** ApiHarnessOptions choose the operation table (default: the whole API). */
export interface ApiHarnessOptions {
  operations?: Readonly<Record<string, Operation<ApiContext>>>;
  arnPrefix?: string;
  /**
   * Where GitHub revisions are fetched from (a `github_archive_url` template) and with which token;
   * by default a loopback port nothing listens on, so no test reaches out to GitHub.
   */
  githubArchiveUrl?: string;
  githubToken?: string;
  /** As ApiContext.blueGreenRefused: the API of a replica on a shared database. */
  blueGreenRefused?: string;
}

/** startApiHarness serves the API on 127.0.0.1 port 0 over fresh stores in a temporary directory. */
export async function startApiHarness(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-api-'));
  const store = openSqliteStore(dataDir);
  const engine = createRecordingEngine();
  const clock = createSettableClock();
  const blobs = createBlobStore(path.join(dataDir, 'blobs'));
  const sessions = createAgentSessionStore(store.db);
  const live = new Set<string>();
  const certificates = new Map<string, number>();
  const ctx: ApiContext = {
    // The API's asynchronous view of the SQLite store that tests set up and inspect (`store`) directly.
    store: asyncSqliteStore(store),
    clock,
    engine,
    identities: createRecordingIdentities(),
    buckets: promised(createBucketStore(store.db)),
    traffic: promised(createTrafficStore(store.db)),
    blobs,
    arnPrefix: options.arnPrefix ?? 'arn:aws:codedeploy:us-east-1:000000000000',
    github: createGitHubArchives({
      blobs,
      urlTemplate: options.githubArchiveUrl ?? 'http://127.0.0.1:9/{repository}/tar.gz/{commitId}',
      ...(options.githubToken !== undefined ? { token: options.githubToken } : {}),
    }),
    agents: {
      session: (name) => Promise.resolve(sessions.get(name)),
      offline: (names) => Promise.resolve(new Map(sessions.notConnected(names).map((s) => [s.instanceName, s.session]))),
      connected: (name) => live.has(name),
      certificateNotAfter: (name) => Promise.resolve(certificates.get(name)),
    },
    schedules: { store: sqliteScheduleStores(store.db), changed: () => Promise.resolve() },
    ...(options.blueGreenRefused !== undefined ? { blueGreenRefused: options.blueGreenRefused } : {}),
  };
  const api = createCodeDeployApi(options.operations ?? allOperations, ctx, pino({ level: 'silent' }), uncheckedCodeDeployGuard, fleetOperations);
  const server = http.createServer((req, res) => void api.handle(req, res));
  // As the coordinator's own server: longer than the SDK's idle sockets live, so a reused one is never reset under it.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call = async (operation: string, input: Record<string, unknown> = {}): Promise<CallResult> => {
    const res = await fetch(endpoint, {
      method: 'POST',
      // `FleetDeploy.ListInstances` names one of fleetdeploy's own operations; a bare name is CodeDeploy's.
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': operation.startsWith('FleetDeploy.') ? `${FLEETDEPLOY_TARGET_PREFIX}${operation.slice('FleetDeploy.'.length)}` : `${TARGET_PREFIX}${operation}` },
      body: JSON.stringify(input),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
  };

  return {
    endpoint,
    ctx,
    store,
    engine,
    clock,
    dataDir,
    sessions,
    live,
    certificates,
    call,
    async ok(operation, input) {
      const r = await call(operation, input);
      if (r.status !== 200) throw new Error(`${operation} answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async refused(operation, input) {
      const r = await call(operation, input);
      if (r.status !== 400) throw new Error(`${operation} answered ${r.status}, not 400: ${JSON.stringify(r.body)}`);
      return { type: String(r.body.__type), message: String(r.body.message) };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
