/**
 * The traffic drivers of two replicas on one PostgreSQL database, shifting a real alias in
 * moto_server through the Lambda router: the replica holding a Lambda deployment's lease drives it.
 * Replica a's leases run on a clock the test stops (a replica paused, or whose timers and clock
 * misjudge its tenure): it stops renewing yet still trusts its lease, so only the database can tell
 * it that replica b took the deployment over. It must then neither move the alias nor record a
 * step, while b resumes from the journal and finishes.
 */
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from '../../../../../test/harness/system-tools.js';
import { usePostgres } from '../../../../../test/harness/postgres.js';
import { makeAliasedFunction } from '../../../../../test/lambda/lambda-world.js';
import { startMotoServer } from '../../testing/moto-server.js';
import type { MotoServer } from '../../testing/moto-server.js';
import { openPgStore } from '../../store/pg/pg-store.js';
import { createWakeupListener } from '../../store/pg/pg-wakeups.js';
import type { PgStore } from '../../store/pg/pg-store.js';
import { pgTrafficJournal } from '../../store/pg/pg-side-stores.js';
import type { TrafficJournal } from '../../store/traffic-store.js';
import type { Clock } from '../../clock.js';
import { systemClock } from '../../clock.js';
import { deploymentRecord } from '../../testing/record-builders.js';
import { createLambdaRouter } from '../../routers/lambda-router.js';
import type { DeploymentOwnership } from '../ownership.js';
import { createPgOwnership } from '../pg-ownership.js';
import type { TrafficDriver } from './driver.js';
import { createTrafficDriver } from './driver.js';
import type { TrafficRouter } from './router.js';

const MINUTE_MS = 400;
const TTL_MS = 1500;
const FAKE_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 };

/** stoppable is a real clock until stop(): then it reads that instant for good and fires no timer. */
function stoppable(): { clock: Clock; stop(): void } {
  let stoppedAt: number | undefined;
  return {
    clock: {
      now: () => stoppedAt ?? Date.now(),
      setTimeout(fn, ms) {
        const t = setTimeout(() => stoppedAt === undefined && fn(), Math.max(0, ms));
        return { cancel: () => clearTimeout(t) };
      },
    },
    stop: () => void (stoppedAt = Date.now()),
  };
}

/**
 * recorded notes each call of `router` as `<replica> <call> [weight]`, in the order they are made;
 * a shift's answer comes back only once `answered()` resolves (a slow network's late answer).
 */
function recorded(replica: string, router: TrafficRouter, calls: string[], answered: () => Promise<void>, hooks: string[]): TrafficRouter {
  return {
    check: () => (calls.push(`${replica} check`), router.check()),
    async shift(w) {
      calls.push(`${replica} shift ${w}`);
      await router.shift(w);
      await answered();
    },
    rollback: () => (calls.push(`${replica} rollback`), router.rollback()),
    // moto cannot run a function's code: the invocation is noted (its execution id too), as the process tests' Lambda proxy does.
    invokeHook: async (fn, payload) => void (calls.push(`${replica} invoke ${fn}`), hooks.push(payload.LifecycleEventHookExecutionId)),
  };
}

const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describeWithTools(['postgres', 'moto_server'], 'traffic drivers of two replicas on one PostgreSQL database', () => {
  const server = usePostgres();
  let moto: MotoServer;
  let lambda: LambdaClient;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    moto = await startMotoServer();
    lambda = new LambdaClient({ ...FAKE_AWS, endpoint: moto.url });
  }, 60_000);
  afterAll(async () => {
    lambda?.destroy();
    await moto?.stop();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  interface ReplicaOptions {
    /** leaseClock runs its leases (a real clock if not given). */
    leaseClock?: Clock;
    /** answered delays the answer to each shift (none if not given). */
    answered?: () => Promise<void>;
    /** ownedPollMs as TrafficDriverDeps' (its 2 s if not given). */
    ownedPollMs?: number;
    /** wakeups: a wake-up listener hands it what other replicas recorded for it (`fd_results`). */
    wakeups?: boolean;
  }

  let roleMade = false;
  /** aliasedFunction makes a function in moto with versions 1 and 2 and the alias `live` on 1. */
  const aliasedFunction = async (name: string): Promise<void> => {
    await makeAliasedFunction(moto.url, lambda, name, !roleMade);
    roleMade = true;
  };

  /** replica starts one replica's store, ownership and traffic driver, its router calls noted in `calls`. */
  const replica = async (url: string, id: string, calls: string[], options: ReplicaOptions = {}): Promise<{ store: PgStore; ownership: DeploymentOwnership; driver: TrafficDriver; logged: string[]; hooks: string[] }> => {
    const { leaseClock, answered = () => Promise.resolve() } = options;
    const store = await openPgStore(url, { poolSize: 4 });
    const ownership = createPgOwnership(store, { replicaId: id, ttlMs: TTL_MS, ...(leaseClock === undefined ? {} : { clock: leaseClock }) });
    const hooks: string[] = [];
    const logged: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
    // Its journal writes are noted among the router calls: a step recorded is `<replica> record`.
    const journal: TrafficJournal = (db) => {
      const inner = pgTrafficJournal(db);
      return { get: (deploymentId) => inner.get(deploymentId), put: (state) => (calls.push(`${id} record`), inner.put(state)) };
    };
    const driver = createTrafficDriver({ asyncStore: store, journal, clock: systemClock, routerFor: (d) => recorded(id, createLambdaRouter(lambda, d.lambda!), calls, answered, hooks), minuteMs: MINUTE_MS, hookTimeoutSeconds: 60, log, ownership, ...(options.ownedPollMs === undefined ? {} : { ownedPollMs: options.ownedPollMs }) });
    const listener = options.wakeups === true ? createWakeupListener({ connection: url, log, channels: ['fd_results'], onWake: (_channel, key) => driver.recordedElsewhere([key]), onMissed: () => undefined }) : undefined;
    stops.push(async () => {
      await listener?.close();
      driver.stop();
      await ownership.stop().catch(() => undefined);
      await store.close();
    });
    await listener?.ready();
    await driver.start();
    return { store, ownership, driver, logged, hooks };
  };

  it('a replica the database no longer names as the holder shifts and records nothing more; the new holder resumes and finishes, each step once', async () => {
    const url = await server().freshDatabase();
    await aliasedFunction('fenced');
    const seed = await openPgStore(url, { poolSize: 1 });
    stops.push(() => seed.close());
    const lambdaSpec = { functionName: 'fenced', alias: 'live', currentVersion: '1', targetVersion: '2', hooks: {}, trafficRoutingConfig: { type: 'TimeBasedLinear' as const, timeBasedLinear: { linearPercentage: 10, linearInterval: 1 } } };
    await seed.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Created', computePlatform: 'Lambda', lambda: lambdaSpec, revision: { revisionType: 'String', string: { content: 'x' } } }));
    const calls: string[] = [];
    const aClock = stoppable();
    // Once its clock stops, the answer to replica a's next shift comes back only after b has shifted:
    // a's record of that step would come after b took the deployment over.
    let late = false;
    const a = await replica(url, 'replica-a', calls, { leaseClock: aClock.clock, answered: () => (late ? until('replica b to shift', () => calls.some((c) => c.startsWith('replica-b shift'))) : Promise.resolve()) });
    // given replica a, which created the deployment, driving it
    a.driver.deploymentCreated('d-1');
    await until('replica a to shift twice', () => calls.includes('replica-a shift 20'));
    // when a's lease clock stops (it renews nothing more, and trusts its lease still) and replica b claims the deployment, as its engine's claim scan would
    aClock.stop();
    late = true;
    const b = await replica(url, 'replica-b', calls);
    b.ownership.claim('d-1');
    await until('the deployment to end', async () => ['Succeeded', 'Failed', 'Stopped'].includes((await seed.getDeployment('d-1'))?.status ?? ''));
    // Steps' time for replica a to do whatever it would.
    await new Promise((resolve) => setTimeout(resolve, 3 * MINUTE_MS));
    // then b took over, and a made no router call and recorded no step after b's first call
    const firstOfB = calls.findIndex((c) => c.startsWith('replica-b '));
    expect(firstOfB, calls.join(', ')).toBeGreaterThan(0);
    expect(calls.slice(firstOfB).filter((c) => c.startsWith('replica-a ')), calls.join(', ')).toEqual([]);
    // a was stopped by the database check, not by a router failure, while it still trusted its lease
    expect(a.ownership.owns('d-1'), 'replica a must still trust its lease, or the test proves nothing of the database check').toBe(true);
    expect(a.logged.some((l) => l.includes('traffic step dropped: the deployment\'s lease is lost'))).toBe(true);
    // every step reached the alias in order; only the step a recorded but may not have applied is applied again, by b
    expect(calls.filter((c) => c.startsWith('replica-b ') && !c.endsWith(' record'))[0], 'b resumes from the journal: no fresh check').toMatch(/^replica-b shift /);
    const weights = calls.filter((c) => c.includes(' shift ')).map((c) => Number(c.split(' ')[2]));
    expect(weights.filter((w, i) => i === 0 || w !== weights[i - 1]), calls.join(', ')).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(weights.length).toBeLessThanOrEqual(11);
    expect(await seed.getDeployment('d-1')).toMatchObject({ status: 'Succeeded' });
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'fenced', Name: 'live' }));
    expect({ version: alias.FunctionVersion, weights: alias.RoutingConfig?.AdditionalVersionWeights ?? {} }).toEqual({ version: '2', weights: {} });
  }, 60_000);

  it('a hook reported to a replica that does not drive the deployment wakes the one that does, which shifts at once', async () => {
    const url = await server().freshDatabase();
    await aliasedFunction('woken');
    const seed = await openPgStore(url, { poolSize: 1 });
    stops.push(() => seed.close());
    const lambdaSpec = { functionName: 'woken', alias: 'live', currentVersion: '1', targetVersion: '2', hooks: { BeforeAllowTraffic: 'woken-pre' }, trafficRoutingConfig: { type: 'AllAtOnce' as const } };
    await seed.putDeployment(deploymentRecord({ deploymentId: 'd-2', status: 'Created', computePlatform: 'Lambda', lambda: lambdaSpec, revision: { revisionType: 'String', string: { content: 'x' } } }));
    const calls: string[] = [];
    // given replica a driving the deployment, waiting for its hook, and reading its journal again only after a minute
    const a = await replica(url, 'replica-a', calls, { ownedPollMs: 60_000, wakeups: true });
    const b = await replica(url, 'replica-b', calls, { ownedPollMs: 60_000, wakeups: true });
    a.driver.deploymentCreated('d-2');
    await until('the hook to be invoked', () => a.hooks.length === 1);
    b.ownership.claim('d-2');
    // when the hook's report reaches replica b's API
    expect(b.ownership.owns('d-2')).toBe(false);
    expect(await b.driver.hookReported('d-2', a.hooks[0]!, 'Succeeded')).toBe('recorded');
    // then replica a moves the alias within moments, not at its next look a minute later
    await until('replica a to move the alias', () => calls.includes('replica-a shift 100'), 10_000);
    await until('the deployment to succeed', async () => (await seed.getDeployment('d-2'))?.status === 'Succeeded', 10_000);
    // b recorded the report (its API's write) and made no router call
    expect(calls.filter((c) => c.startsWith('replica-b '))).toEqual(['replica-b record']);
  }, 60_000);
});
