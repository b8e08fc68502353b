/**
 * The coordinator's deployment event stream: a WebSocket endpoint on the API port, fed by the
 * engine's committed changes, for `fleetdeploy deploy --watch` (and later the web console).
 *
 *   GET /events?deploymentId=d-XXXXXXXXX   one deployment: a snapshot, its changes, then closed when it ends
 *   GET /events                            every deployment: a snapshot of each the first time it is seen
 *
 * Every message is one JSON text frame:
 *
 *   {"type":"snapshot","deployment":{...GetDeployment's deploymentInfo...},"instances":[{...InstanceTarget...}]}
 *   {"type":"deployment","deploymentId":"d-...","status":"InProgress","at":1700000000000}
 *   {"type":"instance","deploymentId":"d-...","instanceName":"sim-1","status":"InProgress","at":...}
 *   {"type":"lifecycleEvent","deploymentId":"d-...","instanceName":"sim-1","lifecycleEvent":"Install","status":"Succeeded","at":...}
 *   {"type":"agentWaiting","deploymentId":"d-...","instanceName":"sim-1","lifecycleEvent":"Install","started":false,"at":...}
 *   {"type":"traffic","deploymentId":"d-...","weight":30,"at":...}   a traffic-shifted deployment's replacement
 *                                                                    has 30 % now (0: rolled back); one per step
 *
 * The snapshot is in the API's shapes (times in epoch seconds); the changes are the engine's
 * {@link DeploymentEvent}s as published (times in epoch milliseconds). A change may repeat what the
 * snapshot already shows; applying it again changes nothing. Clients skip types they do not know
 * (`traffic` came later than the others). With a deploymentId the server closes
 * with 1000 after the change that makes the deployment final (or right after the snapshot when it
 * is final already); 1001 means the coordinator is stopping, 1008 that the client could not keep up.
 *
 * The upgrade request is authenticated like every API request, by the {@link UpgradeAuthenticator}
 * the composition root passes in (SigV4: a presigned URL in the query string, or the headers); a
 * refusal, a malformed id or an unknown deployment is answered in the API's JSON error shape before
 * any upgrade happens.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { ApiContext } from './context.js';
import type { Clock, Timer } from '../clock.js';
import type { DeploymentEvent, DeploymentEventListener } from '../deployment/events.js';
import { isFinalStatus } from '../store/records.js';
import { deploymentInfo, instanceTarget } from './operations/deployments.js';

/** EVENTS_PATH is where the stream is served on the API port. */
export const EVENTS_PATH = '/events';

/** A client further behind than this many bytes is closed with 1008 rather than buffered without end. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Ping interval; a client that has not answered the previous ping by the next one is dropped. */
const PING_MS = 30_000;
/** How often a quiet watcher's key is checked again (a busy one is checked before every message). */
const KEY_RECHECK_MS = 2_000;

/** UpgradeRefusal is why an upgrade request was refused, in the API's error vocabulary. */
export interface UpgradeRefusal {
  status: number;
  /** The AWS error name, sent as `__type` (e.g. `InvalidSignatureException`). */
  type: string;
  message: string;
}

/**
 * UpgradeAuthenticator checks an upgrade request the way the API checks every request (SigV4);
 * undefined lets it through. The composition root plugs in the coordinator's verifier.
 */
export type UpgradeAuthenticator = (req: http.IncomingMessage) => Promise<UpgradeRefusal | undefined>;

/** EventStreamMessage is one frame the stream sends. */
export type EventStreamMessage = { type: 'snapshot'; deployment: Awaited<ReturnType<typeof deploymentInfo>>; instances: ReturnType<typeof instanceTarget>[] } | DeploymentEvent;

/** EventStreamDeps are passed in by the composition root. */
export interface EventStreamDeps {
  /** The API's context: snapshots read the store as GetDeployment does. */
  ctx: ApiContext;
  /** The engine's subscribe. */
  subscribe(listener: DeploymentEventListener): () => void;
  authenticate: UpgradeAuthenticator;
  /**
   * keyCheck gives, for an admitted upgrade, a check of whether the key that signed it still exists
   * unrevoked (asked before every message); a watcher whose key is revoked or deleted is closed (1008)
   * rather than sent anything more. Absent: never checked.
   */
  keyCheck?: (req: http.IncomingMessage) => () => Promise<boolean>;
  clock: Clock;
  log: Logger;
  /** The paths the stream is served at (default: {@link EVENTS_PATH} only); the web console adds its own, which its authenticator tells apart. */
  paths?: readonly string[];
}

/** EventStream serves the stream; the HTTP server hands it every `upgrade` request. */
export interface EventStream {
  /** handleUpgrade answers one `upgrade` event of the API's HTTP server. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** clients is how many watchers are connected. */
  clients(): number;
  /** close tells every watcher the coordinator is stopping (1001) and stops accepting new ones. */
  close(): void;
}


/** snapshotOf is a deployment's current state as one message, or undefined for an unknown id. */
async function snapshotOf(ctx: ApiContext, deploymentId: string): Promise<EventStreamMessage | undefined> {
  const d = await ctx.store.getDeployment(deploymentId);
  if (d === undefined) return undefined;
  const instances = (await ctx.store.listTargets(deploymentId)).map((t) => instanceTarget(ctx, t));
  return { type: 'snapshot', deployment: await deploymentInfo(ctx, d), instances };
}

/** refuse answers an upgrade request with an HTTP error in the API's JSON shape and drops the socket. */
function refuse(socket: Duplex, r: UpgradeRefusal): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify({ __type: r.type, message: r.message });
  socket.end(
    `HTTP/1.1 ${r.status} ${http.STATUS_CODES[r.status] ?? 'Error'}\r\n` +
      'Content-Type: application/x-amz-json-1.1\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** createEventStream makes the endpoint; the caller routes the HTTP server's `upgrade` events to it. */
export function createEventStream(deps: EventStreamDeps): EventStream {
  const { ctx, clock, log } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: true });
  let closing = false;
  const paths = deps.paths ?? [EVENTS_PATH];

  /** parseTarget reads the request's path and deploymentId, or says why it cannot be served. */
  async function parseTarget(req: http.IncomingMessage): Promise<{ deploymentId?: string } | UpgradeRefusal> {
    const url = new URL(req.url ?? '/', 'http://coordinator');
    if (!paths.includes(url.pathname) || req.method !== 'GET') {
      return { status: 404, type: 'NotFoundException', message: `no WebSocket endpoint at ${url.pathname}; the event stream is GET ${EVENTS_PATH}?deploymentId=d-...` };
    }
    const deploymentId = url.searchParams.get('deploymentId') ?? undefined;
    if (deploymentId === undefined || deploymentId === '') return {};
    if (!/^d-[A-Z0-9]{9}$/.test(deploymentId)) return { status: 400, type: 'InvalidDeploymentIdException', message: `deploymentId ${JSON.stringify(deploymentId)} is not a deployment id (d- and nine letters or digits)` };
    if ((await ctx.store.getDeployment(deploymentId)) === undefined) return { status: 400, type: 'DeploymentDoesNotExistException', message: `Deployment ${deploymentId} does not exist` };
    return { deploymentId };
  }

  async function admit(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (closing) return refuse(socket, { status: 503, type: 'ServiceUnavailableException', message: 'the coordinator is stopping' });
    const denied = await deps.authenticate(req);
    if (denied !== undefined) return refuse(socket, denied);
    const target = await parseTarget(req);
    if ('status' in target) return refuse(socket, target);
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, target.deploymentId, deps.keyCheck?.(req) ?? (() => Promise.resolve(true))));
  }

  /**
   * serve sends the snapshot and then every change. It subscribes before it reads the snapshot, and
   * every message goes out through one queue in the order it was due: a change published while a
   * snapshot is read follows that snapshot (which may already show it), so none is lost or sent
   * ahead of the snapshot it changes.
   */
  function serve(ws: WebSocket, deploymentId: string | undefined, keyIsLive: () => Promise<boolean>): void {
    const watchLog = log.child({ deploymentId: deploymentId ?? '*' });
    const introduced = new Set<string>();
    let ping: Timer | undefined;
    let recheck: Timer | undefined;
    let alive = true;

    /** revoked closes the watcher when its key no longer counts, or cannot be checked, and says whether it did. */
    const revoked = async (): Promise<boolean> => {
      let live: boolean;
      try {
        live = await keyIsLive();
      } catch (err) {
        // Refused rather than streamed on: the key may have been revoked.
        watchLog.error({ err }, 'event stream closed: its access key could not be checked');
        unsubscribe();
        ws.close(1011, 'access key check failed');
        return true;
      }
      if (live) return false;
      watchLog.info('event stream closed: its access key was revoked or deleted');
      unsubscribe();
      ws.close(1008, 'access key revoked');
      return true;
    };
    /** send sends one message in its turn (an {@link inOrder} step), after checking the key again. */
    const send = async (message: EventStreamMessage): Promise<boolean> => {
      if (ws.readyState !== ws.OPEN) return false;
      if (await revoked()) return false;
      if (ws.readyState !== ws.OPEN) return false; // closed while the key was read
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        watchLog.warn({ bufferedAmount: ws.bufferedAmount }, 'event stream client too slow; closing');
        ws.close(1008, 'client too slow');
        return false;
      }
      ws.send(JSON.stringify(message));
      return true;
    };
    let unsubscribe = (): void => undefined;
    const finish = (status: string): void => {
      unsubscribe(); // nothing more to send; do not wait for the client's close frame
      ws.close(1000, `deployment ${status}`);
    };
    /** inOrder runs each step after the ones before it (a snapshot is read asynchronously). */
    let queue: Promise<unknown> = Promise.resolve();
    const inOrder = (step: () => unknown): void => {
      queue = queue.then(step).catch((err: unknown) => {
        watchLog.error({ err }, 'event stream failed to read a snapshot');
        unsubscribe();
        ws.close(1011, 'snapshot failed');
      });
    };
    const sendSnapshot = async (id: string): Promise<void> => {
      const snapshot = await snapshotOf(ctx, id);
      if (snapshot !== undefined) await send(snapshot);
    };

    unsubscribe = deps.subscribe((event) => {
      if (deploymentId !== undefined && event.deploymentId !== deploymentId) return;
      if (deploymentId === undefined && !introduced.has(event.deploymentId)) {
        // every deployment: the first time one is seen, say where it stands first
        introduced.add(event.deploymentId);
        inOrder(() => sendSnapshot(event.deploymentId));
      }
      inOrder(async () => {
        await send(event);
        if (deploymentId !== undefined && event.type === 'deployment' && isFinalStatus(event.status)) finish(event.status);
      });
    });

    const schedulePing = (): void => {
      ping = clock.setTimeout(() => {
        if (!alive) return void ws.terminate();
        alive = false;
        ws.ping();
        schedulePing();
      }, PING_MS);
    };
    ws.on('pong', () => void (alive = true));
    ws.on('message', () => undefined); // clients have nothing to say; frames are capped by maxPayload
    ws.on('error', (err) => watchLog.debug({ err }, 'event stream socket error'));
    const scheduleRecheck = (): void => {
      recheck = clock.setTimeout(() => {
        if (ws.readyState !== ws.OPEN) return;
        inOrder(async () => {
          if (ws.readyState === ws.OPEN && !(await revoked())) scheduleRecheck();
        });
      }, KEY_RECHECK_MS);
    };
    ws.on('close', () => {
      unsubscribe();
      ping?.cancel();
      recheck?.cancel();
    });
    schedulePing();
    scheduleRecheck();

    if (deploymentId !== undefined) {
      inOrder(async () => {
        const snapshot = await snapshotOf(ctx, deploymentId);
        if (snapshot === undefined || snapshot.type !== 'snapshot') return void ws.close(1011, 'deployment vanished');
        await send(snapshot);
        if (isFinalStatus(snapshot.deployment.status)) finish(snapshot.deployment.status);
      });
    } else {
      inOrder(async () => {
        for (const d of await ctx.store.activeDeployments()) {
          if (introduced.has(d.deploymentId)) continue; // a change already introduced it
          introduced.add(d.deploymentId);
          await sendSnapshot(d.deploymentId);
        }
      });
    }
    watchLog.debug('event stream client connected');
  }

  return {
    handleUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      admit(req, socket, head).catch((err: unknown) => {
        log.error({ err, url: req.url }, 'event stream upgrade failed unexpectedly');
        refuse(socket, { status: 500, type: 'InternalFailure', message: 'the event stream failed; see the coordinator log' });
      });
    },
    clients: () => wss.clients.size,
    close() {
      closing = true;
      for (const ws of wss.clients) ws.close(1001, 'coordinator stopping');
      wss.close();
    },
  };
}
