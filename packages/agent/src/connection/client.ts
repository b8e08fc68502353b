/**
 * The agent's side of `AgentService.Connect` (docs/agent-protocol.md): open the stream, say Hello
 * (who we are, what runs, results the coordinator has not acknowledged), wait for Welcome, heartbeat
 * at the interval it gives, hand commands to the daemon, and when the stream ends for any reason
 * connect again: to the next coordinator endpoint at once, or, once a whole round of endpoints has
 * failed, after a jittered exponential delay that resets after each Welcome (endpoint-rotation.ts).
 *
 * Every attempt uses a fresh channel, so this delay is the only reconnect backoff (grpc-js's own
 * channel backoff would otherwise stack on top of it). Logs: one line per change of state, of
 * failure reason on an endpoint, or of endpoint, never one per retry.
 *
 * An attempt whose channel is not connected (TCP, TLS and HTTP/2 handshakes done) within the connect
 * timeout is given up as DEADLINE_EXCEEDED: an endpoint that drops packets, or accepts and never
 * answers, would otherwise hold the agent for the system's connect timeout (grpc-js sets none of its
 * own) before the next is tried. That deadline is the network's, timed by grpc-js on the real clock
 * like its keepalive, not by the daemon's Clock (which tests drive by hand).
 */
import { nextDelay } from '@fleetdeploy/shared';
import type { BackoffOptions } from '@fleetdeploy/shared';
import type * as Grpc from '@grpc/grpc-js';
import type { AgentMessage, AgentServiceClient, BundleChunk__Output, CoordinatorMessage__Output } from '@fleetdeploy/protocol';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { InFlight, ParsedCommand } from '../commands/agent-command.js';
import type { StoredResult } from '../state/results.js';
import type { GrpcRuntime } from './grpc-runtime.js';
import { createAgentClient, instanceMetadata } from './channel.js';
import type { ChannelSecurity } from './channel.js';
import { endpointName, resolveEndpoints, systemLookup } from './endpoints.js';
import type { CoordinatorEntry, Endpoint, HostLookup } from './endpoints.js';
import { beginRound, take } from './endpoint-rotation.js';
import type { Round } from './endpoint-rotation.js';
import { createConnectionStates } from './states.js';
import type { ConnectionStateName } from './states.js';
import { toParsedCommand, toProtoResult } from './translate.js';

/**
 * reconnectBackoff is the daemon's default: the first retry within 0.5 s, doubling to at most 10 s,
 * so a restarted coordinator has every agent back within ~10 s while full jitter spreads a thousand
 * agents over that window.
 */
export const reconnectBackoff: BackoffOptions = Object.freeze({ baseMs: 500, maxMs: 10_000 });

/** CONNECT_TIMEOUT_MS is how long an attempt may take to connect when the options name no timeout. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** STOP_LINGER_MS is how long stop() waits for the coordinator to end a half-closed stream. */
export const STOP_LINGER_MS = 2_000;

/** HelloContent is what the daemon reports in each Hello. */
export interface HelloContent {
  inFlight: InFlight[];
  results: StoredResult[];
}

/** ConnectionHandlers is how the connection hands the coordinator's messages to the daemon. */
export interface ConnectionHandlers {
  hello(): HelloContent;
  /** After Welcome: results that were not in the hello (finished meanwhile) are sent now. */
  ready(helloResultIds: ReadonlySet<string>): void;
  command(command: ParsedCommand): void;
  cancel(commandId: string, reason: string): void;
  resultAck(commandId: string): void;
}

/** ConnectionOptions configures one agent's connection. */
export interface ConnectionOptions {
  runtime: GrpcRuntime;
  /** The coordinator replicas (at least one), each looked up again at every round. */
  coordinators: readonly CoordinatorEntry[];
  /** How host names are looked up; default the system resolver ({@link systemLookup}). */
  lookup?: HostLookup;
  /** The credentials of each new attempt (read per attempt, so a renewed certificate is used at once). */
  security: () => ChannelSecurity;
  instanceName: string;
  agentVersion: string;
  platform: 'linux' | 'windows';
  handlers: ConnectionHandlers;
  clock: Clock;
  random: () => number;
  log: Logger;
  backoff?: BackoffOptions;
  /** Heartbeat interval when the Welcome names none (0). */
  heartbeatFallbackMs: number;
  /** How long an attempt may take to connect before the next endpoint is tried; default {@link CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
}

/** AgentConnection is a running connection: start it once, stop it once. */
export interface AgentConnection {
  start(): void;
  state(): ConnectionStateName;
  /** sendAck and sendResult return false when no stream is Ready (results then go in the next Hello). */
  sendAck(commandId: string, noop: boolean): boolean;
  sendResult(result: StoredResult): boolean;
  /** openDownload starts DownloadBundle on the current channel; throws when there is none. */
  openDownload(commandId: string, offset: number): Grpc.ClientReadableStream<BundleChunk__Output>;
  /** reconnect ends the current stream and opens a new one to the same endpoint at once (after a certificate renewal). */
  reconnect(reason: string): void;
  /** endpoint is the endpoint of the current stream, else the one tried last (undefined before the first). */
  endpoint(): Endpoint | undefined;
  stop(): Promise<void>;
}

/** Attempt is one stream and the channel it runs on. */
interface Attempt {
  endpoint: Endpoint;
  client: AgentServiceClient;
  call: Grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage__Output>;
  helloIds: Set<string>;
  stopHeartbeat: () => void;
  /** Set when the connect timeout cancelled the attempt (its status then says so, not CANCELLED). */
  connectTimedOut?: boolean;
}

/** createConnection builds the connection; nothing happens until start(). */
export function createConnection(opts: ConnectionOptions): AgentConnection {
  if (opts.coordinators.length === 0) throw new Error('createConnection: no coordinator to connect to');
  const { grpc } = opts.runtime;
  const backoff = opts.backoff ?? reconnectBackoff;
  const connectTimeoutMs = opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const lookup = opts.lookup ?? systemLookup;
  const log = opts.log;
  const states = createConnectionStates((from, to) => log.debug({ from, to }, 'connection state changed'));
  let attempt: Attempt | undefined;
  /** The round being tried and its endpoints by key (the address dialled). */
  let round: Round | undefined;
  let endpoints = new Map<string, Endpoint>();
  /** The endpoint tried last, and the one last welcomed (to tell a move to another endpoint). */
  let lastTried: Endpoint | undefined;
  let lastWelcomed: Endpoint | undefined;
  let failedRounds = 0;
  /** Per endpoint since the last Welcome: the last failure's code (logged once per change) and its text. */
  const lastFailure = new Map<string, string>();
  const lastReason = new Map<string, string>();
  let cancelRetry: () => void = () => undefined;
  let stopped: (() => void) | undefined;
  let reconnectNow = false;

  const metadata = (): Grpc.Metadata => instanceMetadata(grpc, opts.instanceName);

  /** newRound looks the coordinators up again and dials the round's first endpoint. */
  function newRound(after: string | undefined, afterFailed: boolean): void {
    void resolveEndpoints(opts.coordinators, lookup).then((list) => {
      if (states.current() === 'Shutdown') return;
      endpoints = new Map(list.map((e) => [e.dial, e]));
      round = beginRound([...endpoints.keys()], opts.random(), after, afterFailed);
      follow(planNext());
    });
  }

  /** planNext takes the round's next endpoint or, when the round is over, the backoff delay before the next round. */
  function planNext(): { endpoint: Endpoint } | { delayMs: number } {
    const next = round === undefined ? undefined : take(round);
    if (next !== undefined) {
      round = next.round;
      return { endpoint: endpoints.get(next.key)! };
    }
    const delayMs = nextDelay(failedRounds, opts.random(), backoff);
    failedRounds += 1;
    return { delayMs };
  }

  function follow(plan: { endpoint: Endpoint } | { delayMs: number }): void {
    if ('endpoint' in plan) connect(plan.endpoint);
    else cancelRetry = opts.clock.after(plan.delayMs, () => newRound(lastTried?.dial, false));
  }

  function connect(endpoint: Endpoint): void {
    if (!states.transition(['Idle', 'Backoff'], 'Connecting')) return;
    lastTried = endpoint;
    const client = createAgentClient(opts.runtime, endpoint, opts.security());
    const call = client.Connect(metadata());
    const hello = opts.handlers.hello();
    const current: Attempt = { endpoint, client, call, helloIds: new Set(hello.results.map((r) => r.commandId)), stopHeartbeat: () => undefined };
    attempt = current;
    call.on('data', (msg: CoordinatorMessage__Output) => receive(current, msg));
    call.on('error', () => undefined); // the 'status' event that always follows carries the outcome
    call.on('status', (status: Grpc.StatusObject) => ended(current, status));
    client.waitForReady(Date.now() + connectTimeoutMs, (err) => {
      // Also called when the channel closes (the attempt ended otherwise): only a live, unconnected attempt is given up.
      if (err === undefined || attempt !== current || states.current() !== 'Connecting') return;
      current.connectTimedOut = true;
      current.call.cancel();
    });
    call.write({
      hello: {
        instanceName: opts.instanceName,
        agentVersion: opts.agentVersion,
        platform: opts.platform,
        inFlight: hello.inFlight.map((c) => ({ commandId: c.commandId, deploymentId: c.deploymentId, lifecycleEvent: c.event })),
        unacknowledgedResults: hello.results.map(toProtoResult),
      },
    });
  }

  function receive(current: Attempt, msg: CoordinatorMessage__Output): void {
    if (attempt !== current) return;
    switch (msg.body) {
      case 'welcome': {
        if (!msg.welcome || !states.transition(['Connecting'], 'Ready')) return;
        const to = current.endpoint;
        if (lastWelcomed !== undefined && lastWelcomed.dial !== to.dial) {
          log.info({ from: endpointName(lastWelcomed), to: endpointName(to), reason: lastReason.get(lastWelcomed.dial) ?? 'unknown' }, 'moved to another coordinator endpoint');
        }
        lastWelcomed = to;
        failedRounds = 0;
        lastFailure.clear();
        lastReason.clear();
        const intervalMs = msg.welcome.heartbeatIntervalSeconds > 0 ? msg.welcome.heartbeatIntervalSeconds * 1000 : opts.heartbeatFallbackMs;
        current.stopHeartbeat = heartbeat(current, intervalMs);
        log.info({ coordinator: endpointName(to), coordinatorVersion: msg.welcome.coordinatorVersion, heartbeatMs: intervalMs, graceSeconds: msg.welcome.graceSeconds }, 'connected to coordinator');
        opts.handlers.ready(current.helloIds);
        return;
      }
      case 'command':
        if (msg.command) opts.handlers.command(toParsedCommand(msg.command));
        return;
      case 'cancel':
        if (msg.cancel) opts.handlers.cancel(msg.cancel.commandId, msg.cancel.reason);
        return;
      case 'resultAck':
        if (msg.resultAck) opts.handlers.resultAck(msg.resultAck.commandId);
        return;
      case 'heartbeat':
      case undefined:
        return;
      default:
        assertNever(msg.body);
    }
  }

  /** Sends a heartbeat every `intervalMs` while `current` is the stream; returns the stopper. */
  function heartbeat(current: Attempt, intervalMs: number): () => void {
    let cancel = (): void => undefined;
    const beat = (): void => {
      if (attempt !== current) return;
      current.call.write({ heartbeat: { sentAtMs: opts.clock.now() } });
      cancel = opts.clock.after(intervalMs, beat);
    };
    cancel = opts.clock.after(intervalMs, beat);
    return () => cancel();
  }

  function ended(current: Attempt, ending: Grpc.StatusObject): void {
    if (attempt !== current) return;
    const status = current.connectTimedOut === true ? { ...ending, code: grpc.status.DEADLINE_EXCEEDED, details: `not connected within ${connectTimeoutMs / 1000} s (connect_timeout_seconds)` } : ending;
    attempt = undefined;
    current.stopHeartbeat();
    current.client.close();
    if (stopped) {
      stopped();
      return;
    }
    const wasReady = states.current() === 'Ready';
    if (!states.transition(['Connecting', 'Ready'], 'Backoff')) return;
    const key = current.endpoint.dial;
    if (reconnectNow) {
      // Same endpoint at once; should it fail, the round goes on with the others.
      reconnectNow = false;
      round = beginRound([...endpoints.keys()], opts.random(), key, true);
      cancelRetry = opts.clock.after(0, () => connect(current.endpoint));
      return;
    }
    const reason = describe(grpc, status);
    lastReason.set(key, `${reason.name}: ${status.details}`);
    const fields = { coordinator: endpointName(current.endpoint), code: reason.name, details: status.details };
    if (wasReady) {
      log.warn(fields, 'connection to coordinator lost');
      // Its end is this round's first failure: with one endpoint the delay comes first, with several the next is tried now.
      newRound(key, true);
      return;
    }
    const repeated = lastFailure.get(key) === reason.name;
    lastFailure.set(key, reason.name);
    const plan = planNext();
    const logged = { ...fields, ...('endpoint' in plan ? { next: endpointName(plan.endpoint) } : { retryInMs: plan.delayMs }) };
    if (!repeated) log[reason.level](logged, reason.message);
    else log.debug(logged, 'still cannot connect to coordinator');
    follow(plan);
  }

  function send(msg: AgentMessage): boolean {
    if (!attempt || states.current() !== 'Ready') return false;
    attempt.call.write(msg);
    return true;
  }

  return {
    start: () => newRound(undefined, false),
    state: () => states.current(),
    sendAck: (commandId, noop) => send({ ack: { commandId, noop } }),
    sendResult: (result) => send({ result: toProtoResult(result) }),
    endpoint: () => attempt?.endpoint ?? lastTried,
    openDownload(commandId, offset) {
      if (!attempt) throw new Error('not connected to the coordinator');
      return attempt.client.DownloadBundle({ commandId, offset }, metadata());
    },
    reconnect(reason) {
      const current = attempt;
      if (current === undefined || stopped) return;
      log.info({ reason }, 'reconnecting to coordinator');
      reconnectNow = true;
      current.call.cancel();
    },
    stop() {
      const current = attempt;
      if (!states.transition(['Idle', 'Connecting', 'Ready', 'Backoff'], 'Shutdown')) return Promise.resolve();
      cancelRetry();
      if (!current) return Promise.resolve();
      log.info({}, 'closing connection to coordinator');
      // Half-close so what was written (a last result) still reaches the coordinator; cancel if it lingers.
      return new Promise<void>((resolve) => {
        const cancelLinger = opts.clock.after(STOP_LINGER_MS, () => current.call.cancel());
        stopped = () => {
          cancelLinger();
          resolve();
        };
        current.call.end();
      });
    },
  };
}

/** How a stream's end is logged the first time it happens: NOT_FOUND and RESOURCE_EXHAUSTED are expected. */
function describe(grpc: typeof Grpc, status: Grpc.StatusObject): { name: string; level: 'info' | 'warn' | 'error'; message: string } {
  const name = grpc.status[status.code] ?? String(status.code);
  switch (status.code) {
    case grpc.status.RESOURCE_EXHAUSTED:
      return { name, level: 'info', message: 'coordinator is admitting too many agents, retrying later' };
    case grpc.status.NOT_FOUND:
      return { name, level: 'warn', message: 'coordinator knows no instance of this name (not registered yet?), retrying' };
    case grpc.status.UNAUTHENTICATED:
      return { name, level: 'error', message: 'coordinator does not accept this agent\'s certificate (revoked or expired? enrol again), retrying' };
    case grpc.status.PERMISSION_DENIED:
      return { name, level: 'error', message: 'coordinator refused this agent\'s identity (deregistered, or a certificate of another instance), retrying' };
    case grpc.status.INVALID_ARGUMENT:
      return { name, level: 'error', message: 'coordinator refused the hello, retrying' };
    case grpc.status.OK:
      return { name, level: 'info', message: 'coordinator ended the stream, reconnecting' };
    default:
      return { name, level: 'warn', message: 'cannot connect to coordinator, retrying' };
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected message body ${String(value)}`);
}
