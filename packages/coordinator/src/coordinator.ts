/**
 * The composition root: builds the store, the bucket, the engine, the agent service and the HTTP API
 * from one configuration, and starts and stops them in order.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { CoordinatorConfig } from './config.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { createLoopPriority } from './loop-priority.js';
import { corruptDatabase, isDatabaseCorruption } from './store/database-file.js';
import { createDiskFullWatch } from './store/disk-full.js';
import { createHealth } from './health.js';
import { createMembership, DEFAULT_REPLICA_TTL_MS } from './replicas/membership.js';
import { createDataDir } from './data-dir.js';
import { lockDataDir } from './data-dir-lock.js';
import { createBlobStore, SHARED_BLOB_GRACE_MS } from './artifacts/blob-store.js';
import type { BlobStore } from './artifacts/blob-store.js';
import { DATABASE_FILE } from './store/sqlite-store.js';
import { openStorage } from './storage/open-storage.js';
import type { Storage } from './storage/storage.js';
import { createEventRelay } from './deployment/event-relay.js';
import type { WakeupListener } from './store/pg/pg-wakeups.js';
import { blobDirOf } from './blob-dir.js';
import { createBlobCollector } from './artifacts/blob-collector.js';
import type { BlobCollector } from './artifacts/blob-collector.js';
import { startBucketHousekeeping } from './artifacts/bucket-housekeeping.js';
import type { BucketHousekeeping } from './artifacts/bucket-housekeeping.js';
import { bucketQuota, ConfigError } from './config.js';
import { createGitHubArchives } from './artifacts/github-archive.js';
import { createBucketApi } from './api/bucket.js';
import { createCodeDeployApi } from './api/codedeploy.js';
import { operations } from './api/operations/index.js';
import { fleetOperations } from './api/operations/fleet-instances.js';
import { createApiServer } from './api/http-server.js';
import { createEventStream, EVENTS_PATH } from './api/event-stream.js';
import { CONSOLE_EVENTS_PATH, createConsole, isConsolePath } from './console/console-http.js';
import { createSessionStore } from './console/console-sessions.js';
import { createLoginLimiter } from './console/login-limiter.js';
import { loadConsoleAssets } from './console/static-assets.js';
import type { ApiContext } from './api/context.js';
import { ensureAdminKey } from './auth/admin-credentials.js';
import { createBucketGuard, createCodeDeployGuard, createUpgradeAuthenticator, createWatcherKeyCheck } from './auth/request-guards.js';
import { createSigV4Verifier } from './auth/sigv4-verify.js';
import { createEngine } from './deployment/engine.js';
import { createAlarmWatch } from './alarms/alarm-watch.js';
import { createTrafficDriver } from './deployment/traffic/driver.js';
import { routeByPlatform } from './deployment/platforms.js';
import { createWindowGate } from './deployment/window-gate.js';
import { createDeploymentScheduler } from './api/deployment-scheduler.js';
import { deploymentOperations } from './api/operations/deployments.js';
import { lazyLambdaClient, createLambdaRouter } from './routers/lambda-router.js';
import { createEcsRouter, lazyEcsClients } from './routers/ecs-router.js';
import { serverRouterFactory } from './routers/server-router.js';
import { createCoordinatorMetrics } from './metrics/coordinator-metrics.js';
import type { PgTransactionTiming } from './store/pg/pg-store.js';
import type { CoordinatorMetrics } from './metrics/coordinator-metrics.js';
import { observeLifecycleEvents } from './metrics/metrics-sources.js';
import { serveMetrics } from './metrics/metrics-endpoint.js';
import { createCloudWatchSource } from './alarms/cloudwatch-source.js';
import { createAgentServer } from './rpc/agent-server.js';
import { createEnrolServer } from './rpc/enrol-server.js';
import { openEnrolment, serverNames } from './ca/open-enrolment.js';
import type { Enrolment } from './ca/enrolment.js';
import type { Authority, ServerIdentity } from './ca/authority.js';
import { issueApiTls, loadApiTls, renewalDue } from './api/api-tls.js';
import type { ApiTls } from './api/api-tls.js';
import { createTriggerRecorder } from './triggers/trigger-recorder.js';
import { createTriggerDelivery } from './triggers/trigger-delivery.js';
import { lazySnsSender, webhookSender } from './triggers/trigger-senders.js';

/** RunningCoordinator is a started coordinator. */
export interface RunningCoordinator {
  apiUrl: string;
  /** The CA certificate clients of the HTTPS API trust (--ca-bundle); undefined for plain HTTP or an operator's certificate. */
  apiCaFile?: string;
  agentAddress: string;
  /** firstAdminKeyFile is where this start wrote the first admin key (only on a data directory's first start). */
  firstAdminKeyFile?: string;
  /** Where agents enrol (TLS, no client certificate): `host:port`. */
  enrolAddress: string;
  stop(): Promise<void>;
}

/** ListenFailure is a port the coordinator could not listen on: which of its three, and why. */
export class ListenFailure extends Error {
  constructor(
    readonly role: 'api' | 'agents' | 'enrol',
    readonly port: number,
    cause: unknown,
  ) {
    super(`cannot listen on port ${port} (${role}): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ListenFailure';
  }
}

/** listening names the port of a listen that fails, so the error can say which flag to change. */
function listening<T>(role: ListenFailure['role'], port: number, listen: Promise<T>): Promise<T> {
  return listen.catch((err: unknown) => {
    throw new ListenFailure(role, port, err);
  });
}

/**
 * startCoordinator opens the data directory and starts serving. The database is read whole
 * (quick_check) before any port listens, and a start that fails after listening (the engine's
 * first queries) closes everything again, so a failed start always ends the process.
 */
export async function startCoordinator(config: CoordinatorConfig, log: Logger, clock: Clock = systemClock): Promise<RunningCoordinator> {
  const blobDir = blobDirOf(config); // on PostgreSQL, refused before anything opens without a shared one
  createDataDir(config.dataDir);
  // The data directory is one replica's (endpoints.json, the first admin key's file), whichever the backend.
  const lock = lockDataDir(config.dataDir);
  // This process's name in the rows it claims: a restart is a new replica.
  const replicaId = randomUUID();
  let agentsConnected = (): number => 0;
  let liveReplicas = (): number => 0;
  // Transactions are timed for the metrics, made once the storage gives their counts.
  let observeTransaction = (_seconds: number): void => {};
  let observePgTransaction = (_timing: PgTransactionTiming): void => {};
  // The API's transactions go ahead of the engine's background turns queued before them.
  const priority = createLoopPriority();
  let storage: Storage;
  try {
    storage = await openStorage(config, { replicaId, now: () => clock.now(), priority, observeTransaction: (s) => observeTransaction(s), observePgTransaction: (t) => observePgTransaction(t), log: log.child({ part: 'storage' }) });
  } catch (err) {
    lock.release();
    throw err;
  }
  // The store and the side stores, asynchronously whichever the backend (on SQLite each call still runs at once).
  const asyncStore = storage.store;
  const asyncAccessKeys = storage.accessKeys;
  // Replicas on one database: each deployment is driven by the replica holding its lease (deployment/ownership.ts).
  const ownership = storage.replication?.ownership({
    replicaId,
    ttlMs: Math.round(config.deploymentLeaseSeconds * 1000),
    onError: (name, err) => log.child({ part: 'leases' }).warn({ err, lease: name }, 'a lease call failed; it is tried again while the lease is trusted'),
  });
  const metrics: CoordinatorMetrics = createCoordinatorMetrics({ ...storage.counts, connectedAgents: () => agentsConnected(), replica: { id: replicaId, liveReplicas: () => liveReplicas(), ownedLeases: () => ownership?.held().length ?? 0 }, backend: config.database === undefined ? 'sqlite' : 'postgres' });
  observeTransaction = (s) => metrics.transaction(s);
  observePgTransaction = (t) => metrics.postgresTransaction(t);
  const closeStore = async (): Promise<void> => {
    await storage.close();
    lock.release();
  };
  let firstKey: Awaited<ReturnType<typeof ensureAdminKey>>;
  let enrolment: Enrolment;
  let identity: ServerIdentity;
  let apiTls: ApiTls | undefined;
  try {
    // Replicas starting together on an empty database make one CA and one first admin key between them.
    ({ firstKey, enrolment } = await storage.firstStart(async () => ({
      enrolment: await openEnrolment(config, { store: asyncStore, certificates: storage.certificates }, () => clock.now(), storage.authority),
      firstKey: await ensureAdminKey(config.dataDir, asyncAccessKeys, clock.now()),
    })));
    identity = await enrolment.authority.issueServer(serverNames(config.host), clock.now());
    // Read (or issued) before any port listens: a bad api_tls_cert ends the start with nothing listening.
    apiTls = await loadApiTls(config, enrolment.authority, clock.now());
  } catch (err) {
    await closeStore();
    throw err;
  }
  const verifier = createSigV4Verifier({ keys: asyncAccessKeys, now: () => clock.now() });
  const codedeployGuard = createCodeDeployGuard(verifier);
  // Blobs nobody references are freed as references go (the stores' release hooks) and by a sweep at
  // start and on the housekeeping timer (artifacts/blob-collector.ts explains the design). A folder
  // other replicas share spares what they wrote or held lately (artifacts/blob-store.ts).
  // (The stores tell the collector, made just after them, through these closures: no call comes before it exists.)
  const asyncBuckets = storage.buckets({ quotaBytes: (bucket) => bucketQuota(config, bucket), released: (sha256s) => collector.consider(sha256s) });
  const shared = storage.exclusive ? undefined : { graceMs: SHARED_BLOB_GRACE_MS, now: () => clock.now() };
  let blobs: BlobStore;
  try {
    blobs = createBlobStore(blobDir, 0o700, { released: (sha256) => collector.consider([sha256]) }, shared);
  } catch (err) {
    await closeStore();
    throw new ConfigError(`cannot use the blob directory ${blobDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; choose another with --blob-dir (blob_dir)`);
  }
  const collector: BlobCollector = createBlobCollector({ blobs, references: storage.blobReferences, log: log.child({ part: 'blobs' }), now: () => clock.now() });
  let housekeeping: BucketHousekeeping | undefined;
  const arnPrefix = `arn:aws:codedeploy:${config.region}:${config.accountId}`;

  const enrolServer = createEnrolServer({ enrolment, identity, log: log.child({ part: 'enrolment' }) });
  // One view of the disk for every part that writes, so a full disk is logged once, not once per part or request.
  const disk = createDiskFullWatch({ log: log.child({ part: 'storage' }), now: () => clock.now(), dataDir: config.dataDir });
  const asyncSessions = storage.sessions;
  const certificates = storage.certificates;
  const agents = createAgentServer({ instances: storage.instanceLookup, priority, blobs, clock, config, enrolment, identity, sessions: asyncSessions, sessionLookup: storage.sessionLookup, disk, log: log.child({ part: 'agents' }), onStreamRefused: () => metrics.streamRefused() });
  agentsConnected = () => agents.connectedCount();
  const alarms = createAlarmWatch({ store: asyncStore, source: createCloudWatchSource(), clock, intervalMs: config.alarmPollIntervalSeconds * 1000, log: log.child({ part: 'alarms' }) });
  const databaseFile = path.join(config.dataDir, DATABASE_FILE);
  // Its row among the replicas (replicas/membership.ts). Alone on SQLite under the data directory's
  // lock (exclusive), it is the only live one, and any other row is an earlier process's; its agent
  // sessions have no holder, so reaping those rows closes none. On PostgreSQL other replicas' rows are
  // live until they lapse, and reaping a dead one's closes the agent sessions it held.
  let apiPortOf = (): number => 0;
  let agentPort = 0;
  const membership = createMembership({
    // Real time, not `clock`: a test's fake clock jumping ahead would lapse the row under the loop's real timers.
    replicas: storage.replicas,
    id: replicaId,
    where: () => ({ apiUrl: `${apiTls === undefined ? 'http' : 'https'}://${config.host}:${apiPortOf()}`, agentAddress: `${config.host}:${agentPort}` }),
    ttlMs: DEFAULT_REPLICA_TTL_MS,
    exclusive: storage.exclusive,
    log: log.child({ part: 'replicas' }),
  });
  liveReplicas = () => membership.live().length;
  const health = createHealth(() => storage.isOpen(), { membership, ...(ownership !== undefined ? { leaser: ownership } : {}) });
  const stepFailed = (err: unknown): void => {
    if (isDatabaseCorruption(err)) health.failed(corruptDatabase(databaseFile, config.dataDir, (err as Error).message).message);
  };
  // Triggers: each event's notifications are written to the outbox in the transaction of the engine
  // or traffic driver step that made the event (a process killed at any point has both or neither),
  // and a background loop sends them (triggers/trigger-delivery.ts).
  const recordTriggers = createTriggerRecorder({ outbox: storage.outboxWrites, region: config.region, accountId: config.accountId, arnPrefix, now: () => clock.now(), log: log.child({ part: 'triggers' }) });
  const triggerDelivery = createTriggerDelivery({
    outbox: storage.outbox,
    sns: lazySnsSender(),
    webhook: webhookSender((name) => config.webhookSecrets?.[name], undefined, (name) => log.warn({ trigger: name }, 'webhook trigger has no secret in webhook_secrets; its notifications are sent unsigned')),
    clock,
    retry: { baseMs: config.triggerRetryBaseSeconds * 1000, maxMs: config.triggerRetryMaxSeconds * 1000, maxAttempts: config.triggerMaxAttempts },
    log: log.child({ part: 'triggers' }),
    replicaId,
    // Exclusive on SQLite (the data directory's lock: no other process writes this database); on
    // PostgreSQL the claims found at start may be live replicas'.
    exclusive: storage.exclusive,
  });
  const engine = createEngine({ store: asyncStore, priority, blobs, clock, config, agents, alarms, stepFailed, disk, recordEvents: recordTriggers, log: log.child({ part: 'engine' }), ...(ownership !== undefined ? { ownership } : {}) });
  // Started once the engine is: its first call re-reads what other replicas wrote for this one.
  let wakeups: WakeupListener | undefined;
  // Published after the step's commit, so the delivery loop finds the rows the step wrote.
  engine.subscribe(() => triggerDelivery.wake());
  agents.attach(engine);
  const lambda = lazyLambdaClient();
  const ecsClients = lazyEcsClients(lambda);
  // What the API reads of traffic-shifted deployments: the journal outside any transaction.
  const trafficStore = storage.trafficJournal(asyncStore);
  const serverRouter = serverRouterFactory({
    store: asyncStore,
    clock,
    config,
    // Called for retired blue/green instances, with nothing to await it: a failure is logged.
    deregistered: (name) => void identities.deregistered(name).catch((err: unknown) => log.error({ err, instance: name }, 'revoking a retired instance\'s certificates failed')),
    fleetChanged: (instanceNames) => (instanceNames === undefined ? engine.fleetChanged() : engine.fleetChanged(instanceNames)),
    log: log.child({ part: 'haproxy' }),
  });
  const traffic = createTrafficDriver({
    asyncStore,
    journal: storage.trafficJournal,
    clock,
    routerFor: (d) => (d.blueGreen !== undefined ? serverRouter(d) : d.ecs !== undefined ? createEcsRouter(ecsClients(), d.deploymentId, d.ecs) : createLambdaRouter(lambda(), d.lambda!)),
    minuteMs: config.testOnlyMinuteMs,
    hookTimeoutSeconds: config.hookTimeoutSeconds,
    alarms,
    agents: engine,
    disk,
    recordEvents: recordTriggers,
    log: log.child({ part: 'traffic' }),
    // With replicas, it drives the Lambda and ECS deployments whose lease this replica holds, as the engine does the in-place ones.
    ...(ownership !== undefined ? { ownership } : {}),
  });
  traffic.subscribe(() => triggerDelivery.wake());
  // A blue/green deployment's driver moves on when its instances do.
  engine.subscribe(observeLifecycleEvents(metrics));
  engine.subscribe((e) => {
    if (e.type === 'instance' || e.type === 'lifecycleEvent') traffic.agentsProgressed(e.deploymentId);
  });
  const github = createGitHubArchives({ blobs, urlTemplate: config.githubArchiveUrl, ...(config.githubToken !== undefined ? { token: config.githubToken } : {}), log: log.child({ part: 'github' }) });
  let enrolPort = 0; // set once the enrolment server listens, before the API serves its first request
  const identities = {
    registered: (name: string) => enrolment.writeTokenFile(name),
    enrolmentPort: () => enrolPort,
    async deregistered(name: string) {
      await enrolment.instanceDeregistered(name);
      agents.disconnect(name, `instance ${name} was deregistered; its certificate is revoked`);
    },
  };
  const presence = {
    session: (name: string) => asyncSessions.get(name),
    offline: async (names: readonly string[]) => new Map((await asyncSessions.notConnected(names)).map((s) => [s.instanceName, s.session])),
    connected: (name: string) => agents.isConnected(name),
    certificateNotAfter: async (name: string) => newestValidCertificate(await certificates(asyncStore).listCertificates(name)),
  };
  const windows = createWindowGate({ store: asyncStore, clock, log: log.child({ part: 'windows' }), inner: routeByPlatform(asyncStore, engine, traffic), engine });
  const scheduleStores = storage.schedules;
  // Scheduled deployments go through CreateDeployment as a client's request would.
  const scheduler = createDeploymentScheduler({ schedules: scheduleStores(asyncStore), clock, log: log.child({ part: 'schedules' }), create: (input) => deploymentOperations.CreateDeployment(input, ctx) });
  // The API reads and writes through the same asyncStore as the engine.
  const ctx: ApiContext = { schedules: { store: scheduleStores, changed: (id) => scheduler.changed(id) }, store: asyncStore, clock, engine: windows, traffic: trafficStore, blueGreenReady: config.haproxySocket !== undefined, ...(storage.replication !== undefined ? { blueGreenRefused: BLUE_GREEN_NOT_REPLICATED } : {}), identities, buckets: asyncBuckets, bucketReads: storage.bucketReads, blobs, arnPrefix, github, agents: presence };
  // The web console: the same operations behind a cookie session (console/console-http.ts).
  const webConsole = createConsole({
    operations: { ...operations, ...fleetOperations },
    ctx,
    keys: asyncAccessKeys,
    sessions: createSessionStore({ keys: asyncAccessKeys, now: () => clock.now(), ttlMs: config.consoleSessionSeconds * 1000 }),
    // Ten wrong secrets a minute from one address: a person who mistyped is not held up, a guesser is.
    limiter: createLoginLimiter({ now: () => clock.now(), maxFailures: 10, windowMs: 60_000 }),
    assets: loadConsoleAssets(),
    sessionSeconds: config.consoleSessionSeconds,
    log: log.child({ part: 'console' }),
  });
  const server = createApiServer({
    codedeploy: createCodeDeployApi(operations, ctx, log.child({ part: 'api' }), codedeployGuard, fleetOperations, disk, (operation, outcome) => metrics.apiRequest(operation, outcome)),
    bucket: createBucketApi({ buckets: asyncBuckets, blobs, log: log.child({ part: 'bucket' }), now: () => clock.now(), guard: createBucketGuard(verifier), disk }),
    health: () => health.report(),
    metrics: { handle: (req, res) => serveMetrics(req, res, metrics, config.metricsToken) },
    console: { handle: (req, res) => webConsole.handle(req, res), owns: isConsolePath },
    log,
  }, apiTls);
  const renewal = apiTls?.issued === true ? renewApiCertificate(server as https.Server, apiTls, config, enrolment.authority, clock, log.child({ part: 'api' })) : undefined;
  // The deployment event stream shares the API port and its signatures (any live key may watch);
  // the console's pages come in at their own path with their session cookie.
  const signedUpgrade = createUpgradeAuthenticator(codedeployGuard);
  const watcherKeyCheck = createWatcherKeyCheck(asyncAccessKeys);
  // With replicas, the events of deployments another replica drives come through the database.
  const relay = createEventRelay(replicaId, (err) => log.error({ err }, 'deployment event listener failed'));
  const events = createEventStream({ ctx, subscribe: (listener) => {
    const fromEngine = engine.subscribe(listener);
    const fromTraffic = traffic.subscribe(listener);
    const fromElsewhere = relay.subscribe(listener);
    return () => {
      fromEngine();
      fromTraffic();
      fromElsewhere();
    };
  }, authenticate: (req) => (isConsolePath(req.url) ? webConsole.authenticateUpgrade(req) : signedUpgrade(req)),
  keyCheck: (req) => (isConsolePath(req.url) ? webConsole.sessionCheck(req) : watcherKeyCheck(req)),
  paths: [EVENTS_PATH, CONSOLE_EVENTS_PATH], clock, log: log.child({ part: 'events' }) });
  server.on('upgrade', (req, socket, head) => events.handleUpgrade(req, socket, head));

  /** closeAll stops what started and closes what opened, in the order stop() uses; safe to call on a part-started coordinator. */
  const closeAll = async (): Promise<void> => {
    health.stopping();
    renewal?.stop();
    alarms.close();
    scheduler.stop();
    windows.stop();
    // The running step finishes; what agents said until their streams close is stored below.
    await engine.stop();
    traffic.stop();
    await triggerDelivery.stop();
    events.close();
    await housekeeping?.stop();
    await collector.close();
    await agents.close();
    // The reports the agent server handed over as it closed are stored before the store closes.
    await engine.settled();
    await wakeups?.close();
    // Given up, not left to lapse: another replica takes the deployments over at once.
    await ownership?.stop();
    await enrolServer.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await membership.stop();
    await closeStore();
  };

  try {
    agentPort = await listening('agents', config.agentPort, agents.listen(config.host, config.agentPort));
    enrolPort = await listening('enrol', config.enrolPort, enrolServer.listen(config.host, config.enrolPort));
    await listening(
      'api',
      config.apiPort,
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.apiPort, config.host, () => resolve());
      }),
    );
    // The engine starts once agents can be sent to and the traffic driver once the API can take its
    // hooks' calls; their first queries read the active deployments and the open commands.
    await engine.start();
    wakeups = storage.replication?.listen(
      {
        commandsWaiting: (instanceNames) => engine.commandsWaiting(instanceNames),
        // A deployment's `fd_results` wake-up may be for its traffic journal: the traffic driver looks too.
        reportsWaiting: (deploymentIds) => {
          traffic.recordedElsewhere(deploymentIds);
          return engine.reportsWaiting(deploymentIds);
        },
        wakeupsMissed: () => engine.wakeupsMissed(),
        eventsRelayed: (payloads) => relay.received(payloads),
      },
      log.child({ part: 'wakeups' }),
    );
    await traffic.start();
    await triggerDelivery.start();
    await windows.start();
    await scheduler.start();
    housekeeping = startBucketHousekeeping({ buckets: asyncBuckets, collector, clock, expirySeconds: config.bucketUploadExpirySeconds, log: log.child({ part: 'bucket' }) });
    apiPortOf = () => (server.address() as AddressInfo).port;
    await membership.start();
  } catch (err) {
    // Nothing may keep the process alive after a failed start, nor answer /healthz: close what did open
    // (main's describeStartFailure words a damaged database's error).
    await closeAll();
    throw err;
  }
  health.serving();
  const apiPort = (server.address() as AddressInfo).port;
  const apiUrl = `${apiTls === undefined ? 'http' : 'https'}://${config.host}:${apiPort}`;
  const apiCaFile = apiTls?.caFile;
  const agentAddress = `${config.host}:${agentPort}`;
  const enrolAddress = `${config.host}:${enrolPort}`;
  fs.writeFileSync(path.join(config.dataDir, 'endpoints.json'), JSON.stringify({ apiUrl, ...(apiCaFile !== undefined ? { apiCaFile } : {}), agentAddress, enrolAddress, caFingerprint: enrolment.authority.fingerprint, pid: process.pid }) + '\n');
  if (firstKey !== undefined) log.info({ keyId: firstKey.key.id, file: firstKey.file }, 'first admin access key created');
  if (apiTls === undefined) log.warn({ apiUrl }, 'the API serves plain HTTP (plaintext_api): its requests, signatures and bundles cross the network readable and replayable; use it only behind a TLS proxy on this host or in tests');
  log.info({ apiUrl, apiCaFile, agentAddress, enrolAddress, plaintextAgents: config.plaintextAgents, dataDir: config.dataDir, database: storage.where, blobDir, replica: replicaId }, 'coordinator started');

  return {
    apiUrl,
    ...(apiCaFile !== undefined ? { apiCaFile } : {}),
    agentAddress,
    ...(firstKey !== undefined ? { firstAdminKeyFile: firstKey.file } : {}),
    enrolAddress,
    async stop() {
      await closeAll();
      log.info('coordinator stopped');
    },
  };
}

/**
 * BLUE_GREEN_NOT_REPLICATED is why replicas on one database refuse Server blue/green deployments:
 * the traffic is rerouted through the HAProxy runtime socket in one coordinator's `haproxy_socket`
 * (a local path, or HAProxy's in-memory state beside that host), which a replica that takes the
 * deployment over does not have. Lambda and ECS deployments go to the replica holding their lease.
 */
const BLUE_GREEN_NOT_REPLICATED = 'this coordinator is one of several replicas on a PostgreSQL database, and a Server blue/green deployment reroutes traffic through the HAProxy runtime socket (haproxy_socket) of one coordinator host, which another replica taking the deployment over cannot reach; run blue/green deployments on a coordinator with its own SQLite data directory';

/** How often a running coordinator checks whether its API certificate nears its end. */
const RENEWAL_CHECK_MS = 12 * 3600_000;

/**
 * renewApiCertificate replaces the issued API certificate in place when it nears its end (a
 * coordinator may run longer than the certificate's 397 days); connections open keep theirs.
 */
function renewApiCertificate(server: https.Server, first: ApiTls, config: CoordinatorConfig, authority: Authority, clock: Clock, log: Logger): { stop(): void } {
  let current = first;
  const timer = setInterval(() => {
    if (!renewalDue(current.notAfter, clock.now())) return;
    issueApiTls(config, authority, clock.now()).then(
      (next) => {
        server.setSecureContext({ key: next.keyPem, cert: next.chainPem });
        current = next;
        log.info({ notAfter: new Date(next.notAfter).toISOString() }, 'API certificate renewed');
      },
      (err: unknown) => log.error({ err }, 'API certificate renewal failed; will try again'),
    );
  }, RENEWAL_CHECK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** newestValidCertificate is when the instance's unrevoked certificate that lasts longest expires (epoch ms). */
function newestValidCertificate(certs: readonly { notAfter: number; revokedAt?: number }[]): number | undefined {
  const valid = certs.filter((c) => c.revokedAt === undefined).map((c) => c.notAfter);
  return valid.length === 0 ? undefined : Math.max(...valid);
}
