/**
 * Several replicas' engines on one PostgreSQL database (issue 13): each deployment is driven by the
 * replica holding its lease, agents may be connected to any replica, commands reach them through
 * `fd_commands` wake-ups and their reports reach the owner through stored reports and `fd_results`,
 * and a replica that dies mid-deployment is taken over without running an event twice or losing a
 * result. The agents are simulated (as the real agent does, each runs a command id once), the
 * replicas are real engines, each with its own connection pool, leases and wake-up listener.
 */
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { describeWithTools } from '../../../../test/harness/system-tools.js';
import { usePostgres } from '../../../../test/harness/postgres.js';
import { openPgStore } from '../store/pg/pg-store.js';
import type { PgStore, PgTransaction } from '../store/pg/pg-store.js';
import { pgAgentSessionStore } from '../store/pg/pg-side-stores.js';
import { createWakeupListener } from '../store/pg/pg-wakeups.js';
import type { WakeupListener } from '../store/pg/pg-wakeups.js';
import type { CommandRecord } from '../store/records.js';
import { defaultCoordinatorConfig } from '../config.js';
import type { CoordinatorConfig } from '../config.js';
import { systemClock } from '../clock.js';
import { deploymentRecord } from '../testing/record-builders.js';
import { createEngine } from './engine.js';
import type { AgentReport, AgentResult, Engine } from './engine.js';
import { newTarget } from './instance-lifecycle.js';
import type { DeploymentOwnership } from './ownership.js';
import { createPgOwnership, engineWakeups } from './pg-ownership.js';
import { createEventRelay } from './event-relay.js';
import type { DeploymentEvent } from './events.js';
import { createWindowGate } from './window-gate.js';
import type { WindowGate } from './window-gate.js';
import { createFakeClock } from '../testing/fake-clock.js';
import type { FakeClock } from '../testing/fake-clock.js';

const log = pino({ level: process.env.FD_TEST_LOG ?? 'silent' });
const okResult = (commandId: string): AgentResult => ({ commandId, status: 'Succeeded', diagnostics: { errorCode: 'Success', scriptName: '', message: '', logTail: '' } });
const failedResult = (commandId: string): AgentResult => ({ commandId, status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'x.sh', message: 'exit 1', logTail: '' } });

interface Replica {
  id: string;
  store: PgStore;
  engine: Engine;
  ownership: DeploymentOwnership;
  listener: WakeupListener;
  dead: boolean;
  /** The events other replicas sent it for its event stream (fd_events). */
  relayed: DeploymentEvent[];
}

/**
 * Fleet simulates agents. Each is connected to at most one replica; a command it is sent is run once
 * per command id (a second delivery is counted, not run), and its ack and result go, after
 * `delayMs`, to the replica it is connected to then; a result stays unacknowledged until a replica
 * acknowledges it, and is sent again when the agent connects (its hello). A held agent runs nothing
 * until released. An agent named in `failing` fails the next command it runs.
 */
class Fleet {
  readonly runs = new Map<string, number>();
  readonly deliveries = new Map<string, number>();
  readonly deliveredBy = new Map<string, string[]>();
  readonly where = new Map<string, Replica>();
  readonly unacked = new Map<string, Map<string, AgentResult>>();
  readonly held = new Set<string>();
  readonly failing = new Set<string>();
  readonly waiting = new Map<string, CommandRecord[]>();
  /** The cancels each agent was sent: `replica host commandId`. */
  readonly cancels: string[] = [];
  private readonly ran = new Set<string>();
  constructor(private readonly delayMs: number) {}

  deliver(replica: Replica, command: CommandRecord): boolean {
    if (this.where.get(command.instanceName) !== replica) return false;
    this.deliveries.set(command.commandId, (this.deliveries.get(command.commandId) ?? 0) + 1);
    this.deliveredBy.set(command.commandId, [...(this.deliveredBy.get(command.commandId) ?? []), replica.id]);
    if (this.ran.has(command.commandId)) return true; // the agent's dedupe by command id
    if (this.held.has(command.instanceName)) {
      this.waiting.set(command.instanceName, [...(this.waiting.get(command.instanceName) ?? []), command]);
      return true;
    }
    this.run(command);
    return true;
  }

  private run(command: CommandRecord): void {
    this.ran.add(command.commandId);
    const key = `${command.instanceName} ${command.lifecycleEvent}`;
    this.runs.set(key, (this.runs.get(key) ?? 0) + 1);
    setTimeout(() => this.report(command.instanceName, command.commandId), this.delayMs);
  }

  private report(host: string, commandId: string): void {
    const result = this.failing.delete(host) ? failedResult(commandId) : okResult(commandId);
    let mine = this.unacked.get(host);
    if (mine === undefined) this.unacked.set(host, (mine = new Map()));
    mine.set(commandId, result);
    const replica = this.where.get(host);
    if (replica === undefined || replica.dead) return; // sent in the next hello
    void replica.engine.agentReports([{ instanceName: host, ack: commandId }, { instanceName: host, result }]);
  }

  /** release lets a held agent run what it was sent, and what comes. */
  release(host: string): void {
    this.held.delete(host);
    for (const c of this.waiting.get(host) ?? []) this.run(c);
    this.waiting.delete(host);
  }

  cancelled(replica: Replica, host: string, commandId: string): void {
    if (this.where.get(host) === replica) this.cancels.push(`${replica.id} ${host} ${commandId}`);
  }

  acknowledged(replica: Replica, host: string, commandId: string): void {
    if (this.where.get(host) === replica) this.unacked.get(host)?.delete(commandId);
  }

  /** connect opens the agent's stream to `replica`: its session row, then its hello (unacknowledged results, what it runs). */
  async connect(host: string, replica: Replica): Promise<void> {
    this.where.set(host, replica);
    await pgAgentSessionStore(replica.store, replica.id).connected(host, 'test', Date.now());
    const reports: AgentReport[] = [...(this.unacked.get(host)?.values() ?? [])].map((result) => ({ instanceName: host, result }));
    if (reports.length > 0) void replica.engine.agentReports(reports);
    void replica.engine.agentConnected(host, (this.waiting.get(host) ?? []).map((c) => c.commandId));
  }
}

const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000, explain?: () => Promise<unknown>): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${explain === undefined ? '' : `: ${JSON.stringify(await explain(), null, 1)}`}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describeWithTools(['postgres'], 'engines of several replicas on one PostgreSQL database', () => {
  const server = usePostgres();
  const running: Replica[] = [];

  afterEach(async () => {
    for (const r of running.splice(0)) {
      await r.engine.stop();
      await r.listener.close();
      await r.ownership.stop().catch(() => undefined);
      if (!r.dead) await r.store.close();
    }
  });

  const startReplica = async (url: string, id: string, fleet: Fleet, ttlMs = 1000, config: CoordinatorConfig = defaultCoordinatorConfig, wrap: (store: PgStore) => PgStore = (s) => s): Promise<Replica> => {
    const store = await openPgStore(url, { poolSize: 4 });
    const ownership = createPgOwnership(store, { replicaId: id, ttlMs });
    const replica = { id, store, ownership, dead: false } as Replica;
    replica.engine = createEngine({
      store: wrap(store),
      blobs: undefined as never,
      clock: systemClock,
      config,
      agents: {
        send: (c) => fleet.deliver(replica, c),
        cancel: (host, commandId) => fleet.cancelled(replica, host, commandId),
        acknowledge: (host, commandId) => fleet.acknowledged(replica, host, commandId),
      },
      log,
      ownership,
    });
    replica.relayed = [];
    const relay = createEventRelay(id, (err) => {
      throw err;
    });
    relay.subscribe((e) => replica.relayed.push(e));
    const { commandsWaiting, reportsWaiting, wakeupsMissed } = replica.engine;
    replica.listener = createWakeupListener({ connection: url, log, ...engineWakeups({ commandsWaiting, reportsWaiting, wakeupsMissed, eventsRelayed: (payloads) => relay.received(payloads) }) });
    running.push(replica);
    await replica.listener.ready();
    await replica.engine.start();
    return replica;
  };

  /** startOwner starts replica-a and waits for it to take d-1's lease. */
  const startOwner = async (url: string, fleet: Fleet, ...rest: [ttlMs?: number, config?: CoordinatorConfig]): Promise<Replica> => {
    const a = await startReplica(url, 'replica-a', fleet, ...rest);
    await until('replica-a to take d-1', () => a.ownership.owns('d-1'));
    return a;
  };

  /** kill ends a replica as a crash would: its connections gone, nothing released, no agent told. */
  const kill = async (r: Replica): Promise<void> => {
    r.dead = true;
    await r.listener.close();
    await r.store.close();
  };

  const seed = async (url: string, hosts: readonly string[], allAtOnce = false): Promise<PgStore> => {
    const store = await openPgStore(url, { poolSize: 1 });
    const deploymentConfigName = allAtOnce ? 'CodeDeployDefault.AllAtOnce' : 'CodeDeployDefault.OneAtATime';
    await store.putGroup({ applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName, serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: {} });
    const minimum = allAtOnce ? { minimumHealthyHosts: { type: 'HOST_COUNT' as const, value: 0 } } : {};
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Created', deploymentConfigName, ...minimum, eventTimeouts: { default: 100 } }));
    await store.addTargets(hosts.map((h) => newTarget('d-1', h, 0)));
    return store;
  };

  /** Every lifecycle event the agents ran ran once, and they are the events the targets record as Succeeded. */
  const expectEachEventRanOnce = async (store: PgStore, fleet: Fleet): Promise<void> => {
    const succeeded = (await store.listTargets('d-1')).flatMap((t) => t.lifecycleEvents.filter((e) => e.status === 'Succeeded').map((e) => `${t.targetId} ${e.lifecycleEventName}`));
    expect([...fleet.runs.keys()].sort()).toEqual(succeeded.sort());
    expect([...fleet.runs.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  };

  const statusOf = async (store: PgStore): Promise<string | undefined> => (await store.getDeployment('d-1'))?.status;
  const leaseOwner = async (store: PgStore): Promise<string | undefined> => (await store.query("SELECT owner FROM leases WHERE name = 'deployment:d-1'")).rows[0]?.owner as string | undefined;

  it('drives a deployment from the replica holding its lease while every agent is connected to another replica', async () => {
    const url = await server().freshDatabase();
    const hosts = ['h1', 'h2', 'h3'];
    const db = await seed(url, hosts);
    const fleet = new Fleet(5);
    try {
      await startOwner(url, fleet);
      const b = await startReplica(url, 'replica-b', fleet);
      for (const h of hosts) await fleet.connect(h, b);
      await until('an instance to succeed', async () => (await db.listTargets('d-1')).some((t) => t.status === 'Succeeded'));
      // Driven by replica-a all along, through reports replica-b stored for it.
      expect(await leaseOwner(db)).toBe('replica-a');
      expect(b.ownership.owns('d-1')).toBe(false);
      await until('d-1 to succeed', async () => (await statusOf(db)) === 'Succeeded');
      await expectEachEventRanOnce(db, fleet);
      expect(fleet.runs.size).toBe(21);
      // replica-b's event stream heard what replica-a committed, in order, through the database; replica-a's own are not sent back to it.
      await until('replica-b to hear d-1 succeed', () => b.relayed.some((e) => e.type === 'deployment' && e.status === 'Succeeded'));
      expect(b.relayed.filter((e) => e.type === 'lifecycleEvent' && e.status === 'Succeeded').map((e) => e.type === 'lifecycleEvent' && `${e.instanceName} ${e.lifecycleEvent}`).sort()).toEqual([...fleet.runs.keys()].sort());
      expect(b.relayed.filter((e) => e.type === 'instance' && e.status === 'Succeeded')).toHaveLength(3);
      expect(b.relayed.at(-1)).toMatchObject({ type: 'deployment', deploymentId: 'd-1', status: 'Succeeded' });
      expect(running[0]!.relayed).toEqual([]);
      // Every command went out once, from the agents' replica; every report came back through the store.
      expect([...fleet.deliveries.values()].every((n) => n === 1)).toBe(true);
      expect(new Set([...fleet.deliveredBy.values()].flat())).toEqual(new Set(['replica-b']));
      expect(await db.pendingReports()).toEqual([]);
      expect(await db.openCommands()).toEqual([]);
      expect([...fleet.unacked.values()].every((m) => m.size === 0)).toBe(true);
      // A result repeated after the end (an agent that missed its ack) is acknowledged by any replica, and not stored for anyone.
      const [someCommand] = [...fleet.deliveries.keys()];
      const instanceOf = (await db.getCommand(someCommand!))!.instanceName;
      fleet.unacked.set(instanceOf, new Map([[someCommand!, okResult(someCommand!)]]));
      await b.engine.agentReports([{ instanceName: instanceOf, result: okResult(someCommand!) }]);
      await b.engine.settled();
      expect(fleet.unacked.get(instanceOf)?.size).toBe(0);
      expect(await db.pendingReports()).toEqual([]);
      // Finished: the owner gave its lease back.
      await until('the lease to be released', async () => (await db.query("SELECT 1 FROM leases WHERE name = 'deployment:d-1' AND expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint")).rows.length === 0);
      // A report stored for it as it finished (a race) has no owner to apply it: the replicas' next look drops it.
      await db.addPendingReports([{ deploymentId: 'd-1', instanceName: 'h1', commandId: someCommand!, receivedAt: Date.now(), result: okResult(someCommand!) }]);
      await until('the stray report to be dropped', async () => (await db.pendingReports()).length === 0, 5_000);
    } finally {
      await db.close();
    }
  });

  it('starts again a deployment whose start step failed, rather than leaving it Created', async () => {
    const url = await server().freshDatabase();
    const hosts = ['h1', 'h2'];
    const db = await seed(url, hosts, true);
    const fleet = new Fleet(5);
    let failures = 0;
    // The first start's transaction fails as one refused again and again would, once its retries ran out.
    const failFirstStart = (store: PgStore): PgStore =>
      new Proxy(store, {
        get(target, prop, receiver) {
          if (prop !== 'transaction') return Reflect.get(target, prop, receiver) as unknown;
          return (fn: (tx: PgTransaction) => Promise<unknown>) =>
            target.transaction((tx) =>
              fn(
                new Proxy(tx, {
                  get(t, p, r) {
                    if (p === 'listHealth' && failures === 0) return () => Promise.reject(Object.assign(new Error('injected: the start ran out of retries'), { failure: ++failures }));
                    return Reflect.get(t, p, r) as unknown;
                  },
                }),
              ),
            );
        },
      });
    try {
      const a = await startReplica(url, 'replica-a', fleet, 1000, defaultCoordinatorConfig, failFirstStart);
      for (const h of hosts) await fleet.connect(h, a);
      await until('d-1 to succeed', async () => (await statusOf(db)) === 'Succeeded', 15_000);
      expect(failures).toBe(1);
      await expectEachEventRanOnce(db, fleet);
    } finally {
      await db.close();
    }
  }, 30_000);

  it('does not time out a command whose agent\'s answer another replica stored, though the owner has not applied it yet', async () => {
    const url = await server().freshDatabase();
    const db = await seed(url, ['h1']);
    const fleet = new Fleet(5);
    // A pickup deadline shorter than the claim scan: the owner, deaf to wake-ups, applies stored reports only at its scans.
    const config: CoordinatorConfig = { ...defaultCoordinatorConfig, pickupTimeoutSeconds: 1 };
    try {
      const a = await startOwner(url, fleet, 1000, config);
      await a.listener.close();
      const b = await startReplica(url, 'replica-b', fleet, 1000, config);
      await fleet.connect('h1', b);
      await until('d-1 to end', async () => ['Succeeded', 'Failed'].includes((await statusOf(db)) ?? ''), 25_000);
      expect((await db.listTargets('d-1')).map((t) => `${t.targetId} ${t.status} ${t.lifecycleEvents.filter((e) => e.status !== 'Succeeded').map((e) => e.diagnostics?.message ?? e.status).join('; ')}`)).toEqual(['h1 Succeeded ']);
      expect(await statusOf(db)).toBe('Succeeded');
      await expectEachEventRanOnce(db, fleet);
    } finally {
      await db.close();
    }
  }, 40_000);

  it('finishes a deployment on another replica when its owner dies mid-way, each event run once on each host', async () => {
    const url = await server().freshDatabase();
    const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
    const db = await seed(url, hosts);
    const fleet = new Fleet(15);
    try {
      const a = await startOwner(url, fleet);
      const b = await startReplica(url, 'replica-b', fleet);
      const c = await startReplica(url, 'replica-c', fleet);
      const home = new Map([['h1', a], ['h2', a], ['h3', b], ['h4', b], ['h5', c], ['h6', c]]);
      for (const [h, r] of home) await fleet.connect(h, r);
      await until('two instances to succeed', async () => (await db.listTargets('d-1')).filter((t) => t.status === 'Succeeded').length >= 2);
      await kill(a);
      // Its agents reconnect elsewhere at once (their hello carries what replica-a never acknowledged).
      await fleet.connect('h1', b);
      await fleet.connect('h2', c);
      const explain = async () => ({
        targets: (await db.listTargets('d-1')).map((t) => `${t.targetId} ${t.status} ${t.lifecycleEvents.map((e) => e.status[0]).join('')}`),
        open: await db.openCommands(),
        pending: await db.pendingReports(),
        leases: (await db.query('SELECT * FROM leases')).rows,
        unacked: [...fleet.unacked].map(([h, m]) => [h, [...m.keys()]]),
        where: [...fleet.where].map(([h, r]) => [h, r.id]),
        deliveredBy: [...fleet.deliveredBy],
      });
      await until('d-1 to succeed', async () => (await statusOf(db)) === 'Succeeded', 20_000, explain);
      expect(['replica-b', 'replica-c']).toContain(await leaseOwner(db));
      await expectEachEventRanOnce(db, fleet);
      expect(fleet.runs.size).toBe(42);
      expect([...fleet.deliveries.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      expect(await db.pendingReports()).toEqual([]);
      expect(await db.openCommands()).toEqual([]);
    } finally {
      await db.close();
    }
  }, 40_000);

  it('applies a report stored at a replica that does not drive its deployment, once, though the owner died before applying it', async () => {
    const url = await server().freshDatabase();
    const db = await seed(url, ['h1']);
    const fleet = new Fleet(0);
    try {
      const a = await startOwner(url, fleet);
      const b = await startReplica(url, 'replica-b', fleet);
      fleet.held.add('h1');
      await fleet.connect('h1', b);
      await until('the first command to reach h1', () => (fleet.waiting.get('h1')?.length ?? 0) === 1);
      const first = fleet.waiting.get('h1')![0]!;
      await kill(a);
      fleet.release('h1');
      // replica-a's lease has not expired yet: replica-b stores the report for it and acknowledges the agent.
      await until('the report to be stored for the owner', async () => (await db.pendingReports('d-1')).length === 2);
      expect(b.ownership.owns('d-1')).toBe(false);
      await until('h1\'s result to be acknowledged', () => fleet.unacked.get('h1')?.size === 0);
      expect((await db.getCommand(first.commandId))?.state).not.toBe('done');
      // A new stream before the owner applied it: the command is still open, but the agent ran it and is not sent it again.
      await b.engine.agentDisconnected('h1');
      await fleet.connect('h1', b);
      await b.engine.settled();
      // replica-b takes d-1 over once the lease expires, applies the stored report, and goes on.
      await until('d-1 to succeed', async () => (await statusOf(db)) === 'Succeeded');
      expect(await leaseOwner(db)).toBe('replica-b');
      expect((await db.getCommand(first.commandId))?.state).toBe('done');
      expect(await db.pendingReports()).toEqual([]);
      await expectEachEventRanOnce(db, fleet);
      expect(fleet.runs.size).toBe(7);
      expect([...fleet.deliveries.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('refuses the step of a replica whose lease was taken over before it noticed, and stores the agent\'s report for the new owner', async () => {
    const url = await server().freshDatabase();
    const db = await seed(url, ['h1']);
    const fleet = new Fleet(0);
    try {
      // A long lease: the replica renews it in 20 s, so it trusts it throughout the test.
      const a = await startOwner(url, fleet, 60_000);
      fleet.held.add('h1');
      await fleet.connect('h1', a);
      await until('the first command to reach h1', () => (fleet.waiting.get('h1')?.length ?? 0) === 1);
      const first = fleet.waiting.get('h1')![0]!;
      await db.query("UPDATE leases SET owner = 'replica-x', generation = generation + 1 WHERE name = 'deployment:d-1'");
      fleet.release('h1');
      await until('the report to be stored for the new owner', async () => (await db.pendingReports('d-1')).length === 2);
      await a.engine.settled();
      // replica-a still trusts its tenure, but the fencing check in its transaction refused the writes.
      expect(a.ownership.owns('d-1')).toBe(true);
      expect((await db.getCommand(first.commandId))?.state).toBe('sent');
      expect((await db.listTargets('d-1'))[0]!.lifecycleEvents.every((e) => e.status !== 'Succeeded')).toBe(true);
      expect(fleet.unacked.get('h1')?.size).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('sends a stop\'s cancels to the agents connected to another replica, once, and never a cancelled command', async () => {
    const url = await server().freshDatabase();
    const db = await seed(url, ['h1', 'h2'], true);
    const fleet = new Fleet(0);
    try {
      const a = await startOwner(url, fleet);
      const b = await startReplica(url, 'replica-b', fleet);
      fleet.held.add('h1');
      fleet.held.add('h2');
      await fleet.connect('h1', b); // h2 is not connected anywhere yet
      await until('the first command to reach h1', () => (fleet.waiting.get('h1')?.length ?? 0) === 1);
      const [h1Command] = fleet.waiting.get('h1')!;
      const h2Command = (await db.openCommands('h2'))[0]!;
      expect(await a.engine.stopRequested('d-1', false)).toBe('Pending');
      await until('h1 to be told to cancel', () => fleet.cancels.length === 1);
      expect(fleet.cancels).toEqual([`replica-b h1 ${h1Command!.commandId}`]);
      expect((await db.getCommand(h2Command.commandId))?.cancelReason).toBe('the deployment was stopped');
      // h2 connects after the stop: its cancelled command is not sent to it; a wake-up again sends no second cancel.
      await fleet.connect('h2', b);
      await b.engine.wakeupsMissed();
      await b.engine.settled();
      expect(fleet.deliveries.get(h2Command.commandId)).toBeUndefined();
      expect(fleet.cancels).toHaveLength(1);
    } finally {
      await db.close();
    }
  });

  it('does not fail the commands of an agent connected to another replica as gone after a takeover', async () => {
    const url = await server().freshDatabase();
    const db = await seed(url, ['h1']);
    const fleet = new Fleet(0);
    // Gone after 1 s without a connection here: long before the command's own timeout.
    const config: CoordinatorConfig = { ...defaultCoordinatorConfig, agentGraceSeconds: 1, restartGraceSeconds: 1 };
    try {
      const a = await startOwner(url, fleet, 1000, config);
      const b = await startReplica(url, 'replica-b', fleet, 1000, config);
      const c = await startReplica(url, 'replica-c', fleet, 1000, config);
      fleet.held.add('h1');
      await fleet.connect('h1', c);
      await until('the first command to reach h1', () => (fleet.waiting.get('h1')?.length ?? 0) === 1);
      const first = fleet.waiting.get('h1')![0]!;
      // The agent starts it (its ack), then runs it for a long time.
      await c.engine.agentReports([{ instanceName: 'h1', ack: first.commandId }]);
      await until('the ack to be applied', async () => (await db.getCommand(first.commandId))?.state === 'acked');
      await kill(a);
      await until('replica-b to take d-1 over', () => b.ownership.owns('d-1') || c.ownership.owns('d-1'));
      // Past the restart grace: h1 is connected to replica-c (its session is open), so not gone.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect((await db.getCommand(first.commandId))?.state).toBe('acked');
      expect((await db.listTargets('d-1'))[0]!.status).toBe('InProgress');
      // Once its session ends it is gone: the event fails after the grace.
      await pgAgentSessionStore(c.store, c.id).disconnected('h1', Date.now(), Date.now());
      fleet.where.delete('h1');
      await c.engine.agentDisconnected('h1');
      await until('the event to fail for the agent\'s absence', async () => (await db.getCommand(first.commandId))?.state === 'done', 10_000);
      expect((await db.listTargets('d-1'))[0]!.status).toBe('Failed');
    } finally {
      await db.close();
    }
  }, 30_000);

  it('sends a command whose wake-up its agent\'s replica missed once that replica listens again', async () => {
    const url = await server().freshDatabase();
    const db = await seed(url, ['h1']);
    const fleet = new Fleet(0);
    try {
      await startOwner(url, fleet);
      const b = await startReplica(url, 'replica-b', fleet);
      fleet.held.add('h1');
      await fleet.connect('h1', b);
      await until('the first command to reach h1', () => (fleet.waiting.get('h1')?.length ?? 0) === 1);
      // replica-b stops listening: the wake-up for h1's next command is lost.
      await b.listener.close();
      fleet.release('h1');
      await until('the next command to be written', async () => (await db.openCommands('h1')).some((c) => !fleet.deliveries.has(c.commandId)));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(fleet.deliveries.size).toBe(1);
      // Listening again, it reads what it may have missed (onMissed), and the deployment goes on.
      b.listener = createWakeupListener({ connection: url, log, ...engineWakeups(b.engine) });
      await until('d-1 to succeed', async () => (await statusOf(db)) === 'Succeeded');
      await expectEachEventRanOnce(db, fleet);
      expect(fleet.runs.size).toBe(7);
      expect([...fleet.deliveries.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('stops a deployment on its owner when StopDeployment reaches another replica', async () => {
    const url = await server().freshDatabase();
    const db = await seed(url, ['h1', 'h2']);
    const fleet = new Fleet(0);
    try {
      await startOwner(url, fleet);
      const b = await startReplica(url, 'replica-b', fleet);
      fleet.held.add('h1');
      await fleet.connect('h1', b);
      await fleet.connect('h2', b);
      await until('the first command to reach h1', () => (fleet.waiting.get('h1')?.length ?? 0) === 1);
      const first = fleet.waiting.get('h1')![0]!;
      expect(await b.engine.stopRequested('d-1', false)).toBe('Pending');
      // The owner applies it: the running event is cancelled (through replica-b, h1's), nothing new starts.
      await until('h1 to be told to cancel', () => fleet.cancels.length === 1);
      expect(fleet.cancels).toEqual([`replica-b h1 ${first.commandId}`]);
      fleet.release('h1');
      await until('d-1 to stop', async () => (await statusOf(db)) === 'Stopped');
      expect((await db.getDeployment('d-1'))!.errorInformation?.code).toBe('MANUAL_STOP');
      // h1's remaining events never ran: it ends Failed, as with a StopDeployment on the owner.
      expect((await db.listTargets('d-1')).map((t) => `${t.targetId} ${t.status}`)).toEqual(['h1 Failed', 'h2 Skipped']);
      expect(fleet.runs.size).toBe(1);
      // Asked again once it has stopped: nothing left to stop.
      expect(await b.engine.stopRequested('d-1', false)).toBe('Succeeded');
    } finally {
      await db.close();
    }
  });

  it('fans a deployment out to many agents of another replica, each command sent once', async () => {
    const url = await server().freshDatabase();
    const hosts = Array.from({ length: 30 }, (_, i) => `h${String(i).padStart(2, '0')}`);
    const db = await openPgStore(url, { poolSize: 1 });
    const fleet = new Fleet(0);
    try {
      const a = await startReplica(url, 'replica-a', fleet);
      const b = await startReplica(url, 'replica-b', fleet);
      for (const h of hosts) await fleet.connect(h, b);
      // Past replica-b's first look for deployments to claim; the next is 2 s away.
      await new Promise((resolve) => setTimeout(resolve, 700));
      // Created through replica-a, which takes it at once: each event of the 30 agents reaches them by wake-ups, 30 at a time.
      await (await seed(url, hosts, true)).close();
      await a.engine.deploymentCreated('d-1');
      await until('d-1 to succeed', async () => (await statusOf(db)) === 'Succeeded');
      expect(await leaseOwner(db)).toBe('replica-a');
      expect(new Set([...fleet.deliveredBy.values()].flat())).toEqual(new Set(['replica-b']));
      await expectEachEventRanOnce(db, fleet);
      expect(fleet.runs.size).toBe(30 * 7);
      expect([...fleet.deliveries.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('sends a fan-out larger than a dispatch chunk to the agents of another replica, all of it', async () => {
    const url = await server().freshDatabase();
    const hosts = Array.from({ length: 230 }, (_, i) => `h${String(i).padStart(3, '0')}`);
    const db = await openPgStore(url, { poolSize: 1 });
    const fleet = new Fleet(0);
    try {
      const a = await startReplica(url, 'replica-a', fleet);
      const b = await startReplica(url, 'replica-b', fleet);
      for (const h of hosts) {
        fleet.held.add(h);
        await fleet.connect(h, b);
      }
      await new Promise((resolve) => setTimeout(resolve, 700)); // past replica-b's first look for deployments to claim
      await (await seed(url, hosts, true)).close();
      await a.engine.deploymentCreated('d-1');
      await until('every agent to have its first command', () => fleet.waiting.size === hosts.length);
      expect([...fleet.waiting.values()].every((w) => w.length === 1)).toBe(true);
      expect([...fleet.deliveries.values()].every((n) => n === 1)).toBe(true);
      expect(await leaseOwner(db)).toBe('replica-a');
    } finally {
      await db.close();
    }
  });
  /** guided makes d-1's group hold a failed instance for an operator (onInstanceFailure guided). */
  const guided = async (db: PgStore): Promise<void> => {
    const group = (await db.getGroupById('gid'))!;
    await db.putGroup({ ...group, extra: { ...group.extra, onInstanceFailure: 'guided' } });
  };
  const heldIn = async (db: PgStore): Promise<readonly string[]> => (await db.getDeployment('d-1'))?.plan?.held ?? [];

  it('applies on its owner an answer to a guided failure sent to another replica, and answers there what it can decide', async () => {
    const url = await server().freshDatabase();
    const db = await seed(url, ['h1', 'h2']);
    await guided(db);
    const fleet = new Fleet(0);
    try {
      await startOwner(url, fleet);
      const b = await startReplica(url, 'replica-b', fleet);
      fleet.failing.add('h1');
      await fleet.connect('h1', b);
      await fleet.connect('h2', b);
      await until('d-1 to hold h1', async () => (await heldIn(db)).includes('h1'));
      // Decided at replica-b from the deployment's row: no such deployment, an instance not held.
      expect(await b.engine.resolveInstanceFailure('d-NOPE', 'h1', 'retry')).toBe('noDeployment');
      expect(await b.engine.resolveInstanceFailure('d-1', 'h2', 'skip')).toBe('notHeld');
      // The answer is recorded for replica-a, woken, which retries h1 (its second attempt succeeds).
      expect(await b.engine.resolveInstanceFailure('d-1', 'h1', 'retry')).toBe('accepted');
      await until('d-1 to succeed', async () => (await statusOf(db)) === 'Succeeded');
      expect(await leaseOwner(db)).toBe('replica-a');
      const targets = await db.listTargets('d-1');
      expect(targets.map((t) => `${t.targetId} ${t.status} ${t.attempt ?? 1}`)).toEqual(['h1 Succeeded 2', 'h2 Succeeded 1']);
      expect((await db.getDeployment('d-1'))!.guidedAnswers).toBeUndefined();
      // Asked again once it has ended: no instance is held any more.
      expect(await b.engine.resolveInstanceFailure('d-1', 'h1', 'skip')).toBe('notHeld');
      // A replica that cannot reach the database says so (the API's InternalFailure), rather than accepting it.
      await kill(b);
      expect(await b.engine.resolveInstanceFailure('d-1', 'h1', 'skip')).toBe('failed');
    } finally {
      await db.close();
    }
  });

  it('holds back a retry recorded for the owner while its instance still runs a command the owner ended, and applies it once the agent says it ended', async () => {
    const url = await server().freshDatabase();
    const db = await seed(url, ['h1', 'h2']);
    await guided(db);
    const fleet = new Fleet(0);
    // An agent away for 1 s is gone: its running event fails then.
    const config: CoordinatorConfig = { ...defaultCoordinatorConfig, agentGraceSeconds: 1, restartGraceSeconds: 1 };
    try {
      const a = await startOwner(url, fleet, 1000, config);
      const b = await startReplica(url, 'replica-b', fleet, 1000, config);
      fleet.held.add('h1');
      await fleet.connect('h1', a);
      await until('the first command to reach h1', () => (fleet.waiting.get('h1')?.length ?? 0) === 1);
      const first = fleet.waiting.get('h1')![0]!;
      await a.engine.agentReports([{ instanceName: 'h1', ack: first.commandId }]);
      await until('the ack to be applied', async () => (await db.getCommand(first.commandId))?.state === 'acked');
      // The agent's connection drops while it runs the event: replica-a fails it past the grace, and h1 is held.
      fleet.where.delete('h1');
      await pgAgentSessionStore(a.store, a.id).disconnected('h1', Date.now(), Date.now());
      await a.engine.agentDisconnected('h1');
      await until('d-1 to hold h1', async () => (await heldIn(db)).includes('h1'));
      // The agent comes back to replica-b, still running it: replica-b refuses a retry itself.
      await fleet.connect('h1', b);
      await b.engine.settled();
      expect(await b.engine.resolveInstanceFailure('d-1', 'h1', 'retry')).toBe('stillRunning');
      // Its scripts end (its next hello lists nothing): replica-b records the retry for replica-a...
      fleet.waiting.delete('h1');
      fleet.held.delete('h1');
      await fleet.connect('h1', b);
      await b.engine.settled();
      expect(await b.engine.resolveInstanceFailure('d-1', 'h1', 'retry')).toBe('accepted');
      // ...which has not heard from the agent that it ended: the retry stays recorded, h1 held.
      await a.engine.reportsWaiting(['d-1']);
      const d = (await db.getDeployment('d-1'))!;
      expect(d.guidedAnswers?.map((g) => `${g.instanceId} ${g.action}`)).toEqual(['h1 retry']);
      expect(d.plan?.held).toEqual(['h1']);
      // The agent's hello to replica-a says it ended: the retry is applied at its next claim scan.
      await fleet.connect('h1', a);
      await fleet.connect('h2', a);
      await until('d-1 to succeed', async () => (await statusOf(db)) === 'Succeeded');
      expect((await db.listTargets('d-1')).map((t) => `${t.targetId} ${t.status} ${t.attempt ?? 1}`)).toEqual(['h1 Succeeded 2', 'h2 Succeeded 1']);
      expect((await db.getDeployment('d-1'))!.guidedAnswers).toBeUndefined();
    } finally {
      await db.close();
    }
  });

  it('records a guided failure answer for the new owner when the lease was taken over before its owner noticed', async () => {
    const url = await server().freshDatabase();
    const db = await seed(url, ['h1', 'h2']);
    await guided(db);
    const fleet = new Fleet(0);
    try {
      // A long lease: replica-a trusts it throughout the test.
      const a = await startOwner(url, fleet, 60_000);
      fleet.failing.add('h1');
      await fleet.connect('h1', a);
      await until('d-1 to hold h1', async () => (await heldIn(db)).includes('h1'));
      await db.query("UPDATE leases SET owner = 'replica-x', generation = generation + 1 WHERE name = 'deployment:d-1'");
      // The fencing check refuses replica-a's step; the answer is kept for replica-x rather than lost.
      expect(await a.engine.resolveInstanceFailure('d-1', 'h1', 'skip')).toBe('accepted');
      const d = (await db.getDeployment('d-1'))!;
      expect(d.guidedAnswers?.map((g) => `${g.instanceId} ${g.action}`)).toEqual(['h1 skip']);
      expect(d.plan?.held).toEqual(['h1']);
      // A second answer for the same instance replaces the first until the owner applies it.
      expect(await a.engine.resolveInstanceFailure('d-1', 'h1', 'fail')).toBe('accepted');
      expect((await db.getDeployment('d-1'))!.guidedAnswers?.map((g) => `${g.instanceId} ${g.action}`)).toEqual(['h1 fail']);
    } finally {
      await db.close();
    }
  });

  it('pauses a deployment at its window\'s close and resumes it at the opening on its owner, though another replica armed the timers, and after a takeover', async () => {
    const url = await server().freshDatabase();
    const db = await openPgStore(url, { poolSize: 1 });
    const fleet = new Fleet(0);
    // The gates' time is a fake clock (01:30 UTC, inside the daily window 01:00-02:00); the engines' is the system's.
    const clock = createFakeClock(Date.UTC(2026, 0, 1, 1, 30));
    const gates: WindowGate[] = [];
    const startGate = async (r: Replica, at: FakeClock): Promise<WindowGate> => {
      const e = r.engine;
      const gate = createWindowGate({ store: r.store, clock: at, log, engine: e, inner: { deploymentCreated: (id) => e.deploymentCreated(id), stopRequested: (id, x) => e.stopRequested(id, x), fleetChanged: () => {}, hookReported: async () => 'unknownExecution', resolveInstanceFailure: (id, i, x) => e.resolveInstanceFailure(id, i, x), stillRunningOn: (i) => e.stillRunningOn(i) } });
      gates.push(gate);
      await gate.start();
      return gate;
    };
    /** advanceUntil moves the gates' clock on a step at a time until `check` holds. */
    const advanceUntil = (what: string, stepMs: number, check: () => Promise<boolean>): Promise<void> =>
      until(what, async () => {
        if (await check()) return true;
        clock.advance(stepMs);
        return false;
      });
    const targetStatuses = async (): Promise<string[]> => (await db.listTargets('d-1')).map((t) => `${t.targetId} ${t.status}`);
    try {
      // replica-a and its gate run before d-1 exists; replica-a then takes d-1's lease.
      const a = await startReplica(url, 'replica-a', fleet);
      const gateA = await startGate(a, clock);
      await (await seed(url, ['h1', 'h2'])).close();
      const group = (await db.getGroupById('gid'))!;
      await db.putGroup({ ...group, extra: { deploymentWindows: { windows: [{ cron: '0 1 * * *', durationMinutes: 60 }], outsideWindow: 'queue', windowClose: 'finish-running' } } });
      a.ownership.claim('d-1');
      await until('replica-a to take d-1', () => a.ownership.owns('d-1'));
      // replica-b's gate, started now, knows d-1 and would arm its timers; replica-b does not drive it.
      const b = await startReplica(url, 'replica-b', fleet);
      fleet.held.add('h1');
      await fleet.connect('h1', b);
      await fleet.connect('h2', b);
      await until('d-1 to run h1', async () => (fleet.waiting.get('h1')?.length ?? 0) === 1);
      await startGate(b, clock);
      // 02:00: the window closes. replica-a pauses d-1: h1 finishes, h2 does not start.
      await advanceUntil('d-1 to be paused', 60_000, async () => (await db.getDeployment('d-1'))?.plan?.paused === true);
      expect((await db.getDeployment('d-1'))!.deploymentStatusMessages.some((m) => m.startsWith('fleetdeploy: deployment window:'))).toBe(true);
      expect(clock.now()).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 1, 2));
      fleet.release('h1');
      await until('h1 to succeed', async () => (await targetStatuses()).includes('h1 Succeeded'));
      await a.engine.settled();
      expect(await targetStatuses()).toEqual(['h1 Succeeded', 'h2 Pending']);
      // replica-a dies; replica-b takes d-1 over, and its gate now watches it: at 01:00 the next day, h2 starts.
      gateA.stop(); // a crash takes the gate's timers with it
      await kill(a);
      await until('replica-b to take d-1 over', () => b.ownership.owns('d-1'));
      await advanceUntil('h2 to start', 10 * 60_000, async () => !(await targetStatuses()).includes('h2 Pending'));
      expect(clock.now()).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 2, 1));
      expect(clock.now()).toBeLessThan(Date.UTC(2026, 0, 2, 2));
      await until('d-1 to succeed', async () => (await statusOf(db)) === 'Succeeded');
      expect((await db.getDeployment('d-1'))!.deploymentStatusMessages.filter((m) => m.startsWith('fleetdeploy: deployment window:'))).toEqual([]);
      await expectEachEventRanOnce(db, fleet);
    } finally {
      for (const g of gates) g.stop();
      await db.close();
    }
  });
});
