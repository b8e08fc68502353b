/**
 * The event stream over a real HTTP server and WebSocket client on loopback, with a real SQLite
 * store behind the snapshots and a hand-fed event bus standing in for the engine.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventStream, UpgradeAuthenticator, UpgradeRefusal } from './event-stream.js';
import { createEventStream } from './event-stream.js';
import type { DeploymentEvent, DeploymentEventListener } from '../deployment/events.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { AsyncStore } from '../store/async-store.js';
import { startApiHarness } from '../testing/api-harness.js';
import { deploymentRecord } from '../testing/record-builders.js';
import { newTarget } from '../deployment/instance-lifecycle.js';

interface World {
  url: string;
  store: SqliteStore;
  /** The API's asynchronous view of `store`, which the snapshots read. */
  apiStore: AsyncStore;
  stream: EventStream;
  publish(event: DeploymentEvent): void;
  listeners: Set<DeploymentEventListener>;
  close(): Promise<void>;
}

let world: World;
let authenticate: UpgradeAuthenticator;
/** keyLive plays the access key store: whether the watcher's key still counts, or the error reading it fails with. */
let keyLive: boolean | Error;

async function startWorld(): Promise<World> {
  // The API harness builds a complete context over a real SQLite store; its own server goes unused.
  const api = await startApiHarness();
  const { ctx, store, clock } = api;
  const listeners = new Set<DeploymentEventListener>();
  const subscribe = (l: DeploymentEventListener): (() => void) => {
    listeners.add(l);
    return () => void listeners.delete(l);
  };
  const stream = createEventStream({ ctx, subscribe, authenticate: (req) => authenticate(req), keyCheck: () => () => (keyLive instanceof Error ? Promise.reject(keyLive) : Promise.resolve(keyLive)), clock, log: pino({ level: 'silent' }) });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => stream.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    store,
    apiStore: ctx.store,
    stream,
    listeners,
    publish: (event) => listeners.forEach((l) => l(event)),
    async close() {
      stream.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
    },
  };
}

/** Client is a connected watcher: every message it got, and how the stream ended. */
interface Client {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  /** next resolves once `n` messages have arrived in total. */
  received(n: number): Promise<Array<Record<string, unknown>>>;
}

function connect(query = ''): Promise<Client> {
  const ws = new WebSocket(`${world.url}/events${query}`);
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const received = (n: number): Promise<Array<Record<string, unknown>>> =>
    new Promise((resolve) => {
      const check = (): void => (messages.length >= n ? resolve(messages) : void waiters.push(check));
      check();
    });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed, received }));
    ws.once('error', reject);
  });
}

/** refusal connects and expects the upgrade to be answered with an HTTP error; returns status and body. */
function refusal(pathAndQuery: string): Promise<{ status: number; body: { __type: string; message: string } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${world.url}${pathAndQuery}`);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as { __type: string; message: string } }));
    });
    ws.on('open', () => reject(new Error('upgrade was accepted')));
    ws.on('error', () => undefined);
  });
}

const at = 1_700_000_000_000;

beforeEach(async () => {
  authenticate = () => Promise.resolve(undefined);
  keyLive = true;
  world = await startWorld();
  world.store.putDeployment(deploymentRecord({ deploymentId: 'd-WATCHED01', createTime: at }));
  world.store.putTarget(newTarget('d-WATCHED01', 'sim-1', at));
  world.store.putTarget({ ...newTarget('d-WATCHED01', 'sim-2', at), status: 'InProgress' });
  world.store.putDeployment(deploymentRecord({ deploymentId: 'd-OTHER0001', createTime: at }));
});
afterEach(() => world.close());

describe('GET /events?deploymentId=...', () => {
  it('starts with a snapshot in the API shapes, relays that deployment changes in order and closes when it ends', async () => {
    const c = await connect('?deploymentId=d-WATCHED01');
    const [snapshot] = await c.received(1);
    expect(snapshot).toMatchObject({
      type: 'snapshot',
      deployment: { deploymentId: 'd-WATCHED01', status: 'InProgress', createTime: at / 1000, deploymentOverview: { Pending: 1, InProgress: 1 } },
      instances: [
        { targetId: 'sim-1', status: 'Pending', lifecycleEvents: expect.arrayContaining([{ lifecycleEventName: 'Install', status: 'Pending' }]) as unknown },
        { targetId: 'sim-2', status: 'InProgress' },
      ],
    });
    expect((snapshot!.instances as Array<{ lifecycleEvents: unknown[] }>)[0]!.lifecycleEvents).toHaveLength(7);

    world.publish({ type: 'lifecycleEvent', deploymentId: 'd-WATCHED01', instanceName: 'sim-2', lifecycleEvent: 'ApplicationStop', status: 'Succeeded', at });
    world.publish({ type: 'instance', deploymentId: 'd-OTHER0001', instanceName: 'sim-9', status: 'InProgress', at }); // not ours
    world.publish({ type: 'instance', deploymentId: 'd-WATCHED01', instanceName: 'sim-2', status: 'Succeeded', at });
    world.publish({ type: 'deployment', deploymentId: 'd-WATCHED01', status: 'Succeeded', at });

    expect(await c.closed).toEqual({ code: 1000, reason: 'deployment Succeeded' });
    expect(c.messages.slice(1)).toEqual([
      { type: 'lifecycleEvent', deploymentId: 'd-WATCHED01', instanceName: 'sim-2', lifecycleEvent: 'ApplicationStop', status: 'Succeeded', at },
      { type: 'instance', deploymentId: 'd-WATCHED01', instanceName: 'sim-2', status: 'Succeeded', at },
      { type: 'deployment', deploymentId: 'd-WATCHED01', status: 'Succeeded', at },
    ]);
    expect(world.listeners.size).toBe(0); // unsubscribed once closed
  });

  it('relays a traffic-shifted deployment\'s weights as `traffic` messages, each step and the rollback to 0', async () => {
    const c = await connect('?deploymentId=d-WATCHED01');
    await c.received(1);
    for (const weight of [10, 20, 0]) world.publish({ type: 'traffic', deploymentId: 'd-WATCHED01', weight, at });
    world.publish({ type: 'traffic', deploymentId: 'd-OTHER0001', weight: 50, at }); // not ours
    world.publish({ type: 'deployment', deploymentId: 'd-WATCHED01', status: 'Stopped', at });
    await c.closed;
    expect(c.messages.slice(1, 4)).toEqual([10, 20, 0].map((weight) => ({ type: 'traffic', deploymentId: 'd-WATCHED01', weight, at })));
    expect(c.messages).toHaveLength(5);
  });

  it('sends a change published while the snapshot is being read after that snapshot', async () => {
    const listTargets = world.apiStore.listTargets;
    let published = false;
    vi.spyOn(world.apiStore, 'listTargets').mockImplementation(async (deploymentId) => {
      if (!published) {
        published = true; // the engine moves on between the snapshot's reads
        world.publish({ type: 'instance', deploymentId: 'd-WATCHED01', instanceName: 'sim-2', status: 'Succeeded', at });
      }
      return listTargets(deploymentId);
    });
    const c = await connect('?deploymentId=d-WATCHED01');
    const [first, second] = await c.received(2);
    expect(published).toBe(true);
    expect(first).toMatchObject({ type: 'snapshot', deployment: { deploymentId: 'd-WATCHED01' } });
    expect(second).toEqual({ type: 'instance', deploymentId: 'd-WATCHED01', instanceName: 'sim-2', status: 'Succeeded', at });
    c.ws.close();
    await c.closed;
  });

  it('closes the watcher (1011) and unsubscribes when its snapshot cannot be read', async () => {
    vi.spyOn(world.apiStore, 'listTargets').mockRejectedValue(new Error('disk I/O error'));
    const c = await connect('?deploymentId=d-WATCHED01');
    expect(await c.closed).toEqual({ code: 1011, reason: 'snapshot failed' });
    expect(c.messages).toEqual([]);
    expect(world.listeners.size).toBe(0);
  });

  it('sends the snapshot of a deployment that has ended and closes at once', async () => {
    world.store.putDeployment(deploymentRecord({ deploymentId: 'd-FINISHED1', status: 'Failed', errorInformation: { code: 'HEALTH_CONSTRAINTS', message: 'too many failed' } }));
    const c = await connect('?deploymentId=d-FINISHED1');
    expect(await c.closed).toEqual({ code: 1000, reason: 'deployment Failed' });
    expect(c.messages).toHaveLength(1);
    expect(c.messages[0]).toMatchObject({ type: 'snapshot', deployment: { status: 'Failed', errorInformation: { code: 'HEALTH_CONSTRAINTS' } }, instances: [] });
  });

  it('refuses an unknown deployment, a malformed id and another path before upgrading', async () => {
    expect(await refusal('/events?deploymentId=d-NOSUCH999')).toEqual({ status: 400, body: { __type: 'DeploymentDoesNotExistException', message: 'Deployment d-NOSUCH999 does not exist' } });
    expect((await refusal('/events?deploymentId=nope')).body.__type).toBe('InvalidDeploymentIdException');
    expect(await refusal('/elsewhere')).toMatchObject({ status: 404, body: { __type: 'NotFoundException' } });
    expect(world.stream.clients()).toBe(0);
  });

  it('asks the authenticator first and answers its refusal in the API error shape', async () => {
    const seen: string[] = [];
    const denied: UpgradeRefusal = { status: 403, type: 'InvalidSignatureException', message: 'The request signature we calculated does not match' };
    authenticate = (req) => {
      seen.push(req.url ?? '');
      return Promise.resolve(denied);
    };
    // refused even for an unknown deployment: nothing is revealed to an unauthenticated caller
    expect(await refusal('/events?deploymentId=d-NOSUCH999&X-Amz-Signature=bad')).toEqual({ status: 403, body: { __type: denied.type, message: denied.message } });
    expect(seen).toEqual(['/events?deploymentId=d-NOSUCH999&X-Amz-Signature=bad']);
    expect(world.listeners.size).toBe(0);
  });

  it('closes a watcher (1008) instead of sending it more once its key is revoked', async () => {
    const c = await connect('?deploymentId=d-WATCHED01');
    await c.received(1);
    world.publish({ type: 'instance', deploymentId: 'd-WATCHED01', instanceName: 'sim-2', status: 'InProgress', at });
    await c.received(2);
    keyLive = false;
    world.publish({ type: 'lifecycleEvent', deploymentId: 'd-WATCHED01', instanceName: 'sim-2', lifecycleEvent: 'ApplicationStop', status: 'Failed', at });
    expect(await c.closed).toEqual({ code: 1008, reason: 'access key revoked' });
    expect(c.messages).toHaveLength(2);
    expect(world.listeners.size).toBe(0);
  });

  it('closes a watcher (1011) instead of sending it more when its key cannot be checked', async () => {
    const c = await connect('?deploymentId=d-WATCHED01');
    await c.received(1);
    keyLive = new Error('connection to the database lost');
    world.publish({ type: 'instance', deploymentId: 'd-WATCHED01', instanceName: 'sim-2', status: 'InProgress', at });
    expect(await c.closed).toEqual({ code: 1011, reason: 'access key check failed' });
    expect(c.messages).toHaveLength(1);
    expect(world.listeners.size).toBe(0);
  });

  it('tells watchers the coordinator is stopping (1001) and refuses new ones', async () => {
    const c = await connect('?deploymentId=d-WATCHED01');
    await c.received(1);
    world.stream.close();
    expect((await c.closed).code).toBe(1001);
    expect((await refusal('/events?deploymentId=d-WATCHED01')).status).toBe(503);
  });
});

describe('GET /events (every deployment)', () => {
  it('snapshots each active deployment, then introduces a new one with a snapshot before its first change', async () => {
    const c = await connect();
    const first = await c.received(2);
    expect(first.map((m) => [m.type, (m.deployment as { deploymentId: string }).deploymentId]).sort()).toEqual([
      ['snapshot', 'd-OTHER0001'],
      ['snapshot', 'd-WATCHED01'],
    ]);
    world.store.putDeployment(deploymentRecord({ deploymentId: 'd-NEWCOMER1', status: 'Created' }));
    world.publish({ type: 'deployment', deploymentId: 'd-NEWCOMER1', status: 'InProgress', at });
    world.publish({ type: 'deployment', deploymentId: 'd-WATCHED01', status: 'Succeeded', at });
    const all = await c.received(5);
    expect(all.slice(2)).toMatchObject([
      { type: 'snapshot', deployment: { deploymentId: 'd-NEWCOMER1' } },
      { type: 'deployment', deploymentId: 'd-NEWCOMER1', status: 'InProgress' },
      { type: 'deployment', deploymentId: 'd-WATCHED01', status: 'Succeeded' },
    ]);
    expect(c.ws.readyState).toBe(WebSocket.OPEN); // the all-deployments stream stays open
    c.ws.close();
    await c.closed;
  });
});
