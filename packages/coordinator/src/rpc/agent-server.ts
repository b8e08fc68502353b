/**
 * The agents' gRPC service: one Connect stream per agent (hello, commands, acks, results,
 * heartbeats) and DownloadBundle. Only this module speaks proto; the engine sees domain records.
 * docs/agent-protocol.md is the contract.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { loadAgentProtocol } from '@fleetdeploy/protocol';
import type { AgentMessage__Output, CoordinatorMessage, CommandResult__Output, DownloadBundleRequest__Output, BundleChunk, CertificateResponse, RenewRequest__Output } from '@fleetdeploy/protocol';
import type { Clock, Timer } from '../clock.js';
import type { CoordinatorConfig } from '../config.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Store } from '../store/store.js';
import type { BlobStore } from '../artifacts/blob-store.js';
import type { CommandRecord, DeploymentRecord, InstanceRecord } from '../store/records.js';
import type { AgentLink, AgentResult, Engine } from '../deployment/engine.js';
import type { ServerIdentity } from '../ca/authority.js';
import type { Enrolment } from '../ca/enrolment.js';
import { EnrolmentError } from '../ca/enrolment.js';
import type { AgentSessionStore } from '../fleet/agent-sessions.js';
import type { AsyncAgentSessionStore } from '../store/pg/pg-side-stores.js';
import { createOrderedWrites, skippedOnFailure } from '../fleet/ordered-writes.js';
import { Admission } from './admission.js';
import { createEngineInbox } from './engine-inbox.js';
import type { LoopPriority } from '../loop-priority.js';
import { createHeartbeatRounds } from './heartbeat-rounds.js';
import { createSmallBlobCache } from '../artifacts/small-blob-cache.js';
import { shutdownGrpcServer } from './grpc-shutdown.js';
import { enrolmentStatus, replyWith } from './enrol-server.js';
import { toLifecycleCommand, fromDiagnostics } from './translate.js';
import { createDiskFullWatch } from '../store/disk-full.js';
import type { DiskFullWatch } from '../store/disk-full.js';

/**
 * INSTANCE_METADATA is the call metadata that names the agent's instance. With mutual TLS the
 * certificate names it and the metadata, when sent, must agree; with plain text it is all there is.
 */
export const INSTANCE_METADATA = 'fleetdeploy-instance';
/** CHUNK_BYTES is the size of a DownloadBundle chunk. */
const CHUNK_BYTES = 256 * 1024;
/** Bundles up to this size are served from memory (small-blob-cache.ts), up to BUNDLE_CACHE_BYTES in all. */
const CACHED_BUNDLE_BYTES = 1024 * 1024;
const BUNDLE_CACHE_BYTES = 32 * 1024 * 1024;
/** HEARTBEAT_TICKS is how many slices a heartbeat round to every agent is sent in (heartbeat-rounds.ts). */
const HEARTBEAT_TICKS = 20;

type Stream = grpc.ServerDuplexStream<AgentMessage__Output, CoordinatorMessage>;

interface Session {
  instanceName: string;
  call: Stream;
  lastSeen: number;
  /** When the stream's client certificate expires (mutual TLS only): the stream is closed then. */
  notAfter?: number;
}

/** Caller is who a call speaks for, or why it may not speak at all. */
type Caller = { ok: true; instanceName: string; notAfter?: number } | { ok: false; code: grpc.status; details: string };

/** AgentServer is the gRPC side of the coordinator: the engine's {@link AgentLink}. */
export interface AgentServer extends AgentLink {
  attach(engine: Engine): void;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
  /** connectedCount is how many agents have a live stream. */
  connectedCount(): number;
  /** isConnected says whether the instance's agent has a live stream to this coordinator (from memory). */
  isConnected(instanceName: string): boolean;
  /** disconnect ends the instance's stream (deregistered: its certificate no longer counts). */
  disconnect(instanceName: string, details: string): void;
}

/** InstanceLookup reads an instance's record, at once (SQLite) or not (PostgreSQL). */
export type InstanceLookup = Pick<Store, 'getInstance'> | Pick<AsyncStore, 'getInstance'>;

/** AgentServerDeps are passed in by the composition root. */
export interface AgentServerDeps {
  /**
   * Where a Hello's instance is looked up (registered, not deregistered) before its stream is
   * admitted: synchronously on SQLite (the stream is admitted in the turn its Hello came in; a
   * promise there cost a reconnect storm a fifth more time), asynchronously on PostgreSQL.
   */
  instances: InstanceLookup;
  /** The engine's turns through the agents' reports give way to an API transaction waiting for its turn (loop-priority.ts). */
  priority?: LoopPriority;
  blobs: BlobStore;
  clock: Clock;
  config: CoordinatorConfig;
  log: Logger;
  /** Checks client certificates and renews them. */
  enrolment: Enrolment;
  /** The server's certificate (issued by the CA for the listen address); unused with plain text. */
  identity: ServerIdentity;
  /** Where each instance's agent session is kept (connected, heartbeats, disconnected). */
  sessions: AsyncAgentSessionStore;
  /**
   * The same sessions read synchronously, for offlineSince alone: the engine asks it through its
   * synchronous AgentLink (on PostgreSQL a cache, fleet/cached-session-lookup.ts).
   */
  sessionLookup: Pick<AgentSessionStore, 'get'>;
  /** Told of each stream refused by the admission rate (metrics). */
  onStreamRefused?: () => void;
  /** Where a session write that failed for a full disk is reported; the server makes its own without it. */
  disk?: DiskFullWatch;
}

/** HEARTBEATS_FLUSH_MS is how long agents' heartbeats gather before they are written together. */
export const HEARTBEATS_FLUSH_MS = 1000;

/** createAgentServer builds the service; attach the engine before listening. */
export function createAgentServer(deps: AgentServerDeps): AgentServer {
  const { instances, blobs, clock, config, log, enrolment } = deps;
  const disk = deps.disk ?? createDiskFullWatch({ log, now: () => clock.now() });
  const sessions = new Map<string, Session>();
  // Streams the previous process had open ended with it; listen waits for this (a failure fails the
  // start), so every session write, made for a stream, comes after it.
  const abandonedClosed = deps.sessions.closeAbandoned();
  abandonedClosed.catch(() => undefined); // listen reports it
  const admission = new Admission(config.streamsPerSecond, clock.now());
  let engine: Engine | undefined;
  /** What agents tell the engine, handed over after the loop's I/O, in order (engine-inbox.ts). */
  const inbox = createEngineInbox(() => engine, undefined, deps.priority?.giveWay());
  const smallBundles = createSmallBlobCache({ read: (sha256) => fs.promises.readFile(blobs.path(sha256)), maxBlobBytes: CACHED_BUNDLE_BYTES, maxTotalBytes: BUNDLE_CACHE_BYTES });
  let heartbeatTimer: Timer | undefined;
  /** Each agent's heartbeat, every heartbeatIntervalSeconds, is sent in one of HEARTBEAT_TICKS slices of the fleet. */
  const heartbeats = createHeartbeatRounds<Session>(HEARTBEAT_TICKS);
  const heartbeatTickMs = (config.heartbeatIntervalSeconds * 1000) / HEARTBEAT_TICKS;
  /**
   * Heartbeats heard since the last flush, by instance: written together every HEARTBEATS_FLUSH_MS
   * (at 10,000 agents, one UPDATE commit each was 6% of the coordinator's CPU in bench-fleet). They
   * only inform ListInstances, which may see them that much later; a session's start and end are
   * written at once, and drop what is pending for it.
   */
  const beats = new Map<string, number>();
  let beatsTimer: Timer | undefined;
  const flushBeats = (): void => {
    beatsTimer = undefined;
    if (beats.size === 0) return;
    const batch = new Map(beats);
    beats.clear();
    record('agent heartbeats', () => deps.sessions.heartbeats(batch));
  };
  const server = new grpc.Server({
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    'grpc.max_concurrent_streams': 1000,
  });

  const refuse = (call: Stream, code: grpc.status, details: string): undefined => {
    call.emit('error', { code, details });
    return undefined;
  };

  /**
   * record writes to an instance's session record, which only informs (ListInstances, status
   * messages), after the writes recorded before it (fleet/ordered-writes.ts): on a full disk the
   * write is skipped, and the stream and the deployment go on; another failure is logged.
   */
  const writes = createOrderedWrites(skippedOnFailure(disk, log));
  const record = (what: string, write: () => Promise<unknown>): void => writes.write(what, write);

  /**
   * callerOf is the instance a call speaks for: with mutual TLS, the verified certificate's
   * instance while its serial is recorded, unrevoked and unexpired (the metadata, if sent, must name
   * the same); with plain text, the metadata.
   */
  function callerOf(call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext'>): Caller | Promise<Caller> {
    const claimed = String(call.metadata.get(INSTANCE_METADATA)[0] ?? '');
    // Known at once without a certificate to look up (plain text, or none presented).
    if (config.plaintextAgents) {
      if (claimed === '') return { ok: false, code: grpc.status.INVALID_ARGUMENT, details: `a plain-text call must name its instance in the ${INSTANCE_METADATA} metadata` };
      return { ok: true, instanceName: claimed };
    }
    const peer = call.getAuthContext().sslPeerCertificate;
    if (peer === undefined) return { ok: false, code: grpc.status.UNAUTHENTICATED, details: 'a client certificate from this coordinator is required; enrol the agent (fleetdeploy-agent enrol)' };
    const cn = peer.subject?.CN as string | string[] | undefined;
    return enrolment.check({ serialNumber: peer.serialNumber, commonName: Array.isArray(cn) ? '' : (cn ?? '') }).then(
      (record): Caller => {
        if (claimed !== '' && claimed !== record.instanceName) {
          return { ok: false, code: grpc.status.PERMISSION_DENIED, details: `the certificate is for instance ${record.instanceName}, but the call's ${INSTANCE_METADATA} metadata names ${JSON.stringify(claimed)}` };
        }
        return { ok: true, instanceName: record.instanceName, notAfter: record.notAfter };
      },
      (err: unknown): Caller => {
        if (err instanceof EnrolmentError) return { ok: false, code: enrolmentStatus(err.code), details: err.message };
        throw err;
      },
    );
  }

  function connect(call: Stream): void {
    let session: Session | undefined;
    let caller: Extract<Caller, { ok: true }> | undefined;
    let ended = false;
    /**
     * Messages wait here while the stream is being admitted: its client certificate checked, then its
     * Hello's instance read (both asynchronous: on PostgreSQL they are round trips). They are handled
     * in order once it is; on SQLite each step resolves at once, so they hardly wait.
     */
    const waiting: AgentMessage__Output[] = [];
    let busy = true;
    const failed = (err: unknown): void => {
      log.error({ err }, 'admitting an agent stream failed');
      refuse(call, grpc.status.UNAVAILABLE, 'the coordinator could not check the stream; retry after a backoff');
    };
    const drain = (): void => {
      while (!busy && !ended && waiting.length > 0) {
        const pending = handle(waiting.shift()!);
        if (pending === undefined) continue;
        busy = true;
        pending.then(() => {
          busy = false;
          drain();
        }, failed);
      }
    };

    /** admit admits the stream for its Hello's instance once the instance is read; undefined when that was at once. */
    const admit = (message: AgentMessage__Output): Promise<void> | undefined => {
      const hello = message.hello!;
      const found = instances.getInstance(hello.instanceName);
      if (found instanceof Promise) return found.then((instance) => welcome(hello, instance));
      welcome(hello, found);
      return undefined;
    };

    /** welcome admits the stream for its Hello's instance if it is registered (and the admission rate allows). */
    const welcome = (hello: NonNullable<AgentMessage__Output['hello']>, instance: InstanceRecord | undefined): void => {
      const name = hello.instanceName;
      if (ended) return; // the stream ended while the instance was read
      if (instance === undefined || instance.deregisterTime !== undefined) {
        return refuse(call, grpc.status.NOT_FOUND, `no registered on-premises instance is named ${name}; register it with aws deploy register-on-premises-instance`);
      }
      if (!admission.tryAdmit(clock.now())) {
        deps.onStreamRefused?.();
        return refuse(call, grpc.status.RESOURCE_EXHAUSTED, 'too many agents are connecting at once; retry after a backoff');
      }
      const previous = sessions.get(name);
      if (previous !== undefined) refuse(previous.call, grpc.status.ABORTED, 'a newer stream for this instance replaced this one');
      session = { instanceName: name, call, lastSeen: clock.now(), ...(caller!.notAfter === undefined ? {} : { notAfter: caller!.notAfter }) };
      sessions.set(name, session);
      call.write({ welcome: { coordinatorVersion: '0.1.0', heartbeatIntervalSeconds: config.heartbeatIntervalSeconds, graceSeconds: config.agentGraceSeconds } });
      const connectedAt = session.lastSeen;
      beats.delete(name);
      record('agent connected', () => deps.sessions.connected(name, hello.agentVersion, connectedAt));
      log.info({ instance: name, agentVersion: hello.agentVersion, platform: hello.platform, peer: call.getPeer(), pending: hello.unacknowledgedResults.length, replaced: previous !== undefined }, 'agent connected');
      for (const result of hello.unacknowledgedResults) inbox.report({ instanceName: name, result: toResult(result) });
      inbox.connected(name, hello.inFlight.map((c) => c.commandId));
    };

    /** handle handles one message; a Hello's admission is asynchronous, and the messages after it wait for it. */
    const handle = (message: AgentMessage__Output): Promise<void> | undefined => {
      if (session === undefined) {
        if (message.body !== 'hello' || !message.hello) return refuse(call, grpc.status.INVALID_ARGUMENT, 'the first message of a stream must be a Hello');
        const name = message.hello.instanceName;
        if (name !== caller!.instanceName) {
          const by = config.plaintextAgents ? `the call's ${INSTANCE_METADATA} metadata` : 'its client certificate';
          return refuse(call, grpc.status.PERMISSION_DENIED, `Hello names instance ${JSON.stringify(name)} but ${by} names ${JSON.stringify(caller!.instanceName)}; a stream speaks only for its own instance`);
        }
        return admit(message);
      }
      session.lastSeen = clock.now();
      if (message.body === 'heartbeat') {
        beats.set(session.instanceName, session.lastSeen);
        beatsTimer ??= clock.setTimeout(flushBeats, HEARTBEATS_FLUSH_MS);
      }
      switch (message.body) {
        case 'ack':
          if (message.ack) inbox.report({ instanceName: session.instanceName, ack: message.ack.commandId });
          return;
        case 'result':
          if (message.result) inbox.report({ instanceName: session.instanceName, result: toResult(message.result) });
          return;
        case 'progress':
        case 'heartbeat':
          return;
        default:
          return refuse(call, grpc.status.INVALID_ARGUMENT, `unexpected ${message.body ?? 'empty'} message after Hello`);
      }
    };

    call.on('data', (message: AgentMessage__Output) => {
      waiting.push(message);
      drain();
    });
    const closed = (): void => {
      ended = true;
      waiting.length = 0;
      if (session !== undefined && sessions.get(session.instanceName) === session) {
        sessions.delete(session.instanceName);
        const { instanceName, lastSeen } = session;
        beats.delete(instanceName); // the end records the last time the agent was heard from
        record('agent disconnected', () => deps.sessions.disconnected(instanceName, clock.now(), lastSeen));
        inbox.disconnected(session.instanceName);
        log.info({ instance: session.instanceName, lastSeen: new Date(session.lastSeen).toISOString() }, 'agent disconnected');
      }
      session = undefined;
    };
    call.on('end', () => {
      closed();
      call.end();
    });
    call.on('cancelled', closed);
    call.on('error', closed);
    call.on('close', closed);

    const accept = (c: Caller): void => {
      if (ended) return;
      if (!c.ok) {
        log.warn({ code: grpc.status[c.code], reason: c.details }, 'agent stream refused');
        refuse(call, c.code, c.details);
        return;
      }
      caller = c;
      busy = false;
      drain();
    };
    const known = callerOf(call);
    if (known instanceof Promise) known.then(accept, failed);
    else accept(known);
  }

  async function downloadBundle(call: grpc.ServerWritableStream<DownloadBundleRequest__Output, BundleChunk>): Promise<void> {
    let caller: Caller;
    try {
      caller = await callerOf(call);
    } catch (err) {
      log.error({ err }, 'checking a bundle download\'s caller failed');
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the coordinator could not check the caller; retry after a backoff' });
      return;
    }
    if (!caller.ok) {
      call.emit('error', { code: caller.code, details: caller.details });
      return;
    }
    const instance = caller.instanceName;
    const request = call.request;
    const bundle = await engine?.bundleFor(instance, request.commandId);
    if (bundle === undefined) {
      call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: `command ${request.commandId} was not sent to instance ${JSON.stringify(instance)}, so its bundle is not served to it` });
      return;
    }
    const offset = Number(request.offset);
    if (!(offset >= 0 && offset <= bundle.size)) {
      call.emit('error', { code: grpc.status.OUT_OF_RANGE, details: `offset ${request.offset} is past the bundle's ${bundle.size} bytes` });
      return;
    }
    let first = true;
    let source: Readable | undefined;
    try {
      const cached = smallBundles.get(bundle.sha256, bundle.size);
      let chunks: AsyncIterable<Buffer> | Iterable<Buffer>;
      if (cached !== undefined) {
        chunks = slices((await cached).subarray(offset), CHUNK_BYTES);
      } else {
        source = await blobs.open(bundle.sha256, { start: offset });
        chunks = chunked(source as AsyncIterable<Buffer>, CHUNK_BYTES);
      }
      for await (const chunk of chunks) {
        const message: BundleChunk = first ? { data: chunk, totalSize: String(bundle.size) } : { data: chunk };
        first = false;
        if (!call.write(message)) await once(call, 'drain');
        if (call.cancelled) return;
      }
      if (first) call.write({ data: Buffer.alloc(0), totalSize: String(bundle.size) });
      call.end();
    } catch (err) {
      log.error({ err, instance, commandId: request.commandId }, 'bundle download failed');
      call.emit('error', { code: grpc.status.INTERNAL, details: 'the coordinator could not read the stored bundle' });
    } finally {
      source?.destroy();
    }
  }

  function heartbeat(): void {
    const now = clock.now();
    for (const session of heartbeats.tick(() => sessions.values())) {
      if (sessions.get(session.instanceName) !== session) continue; // ended (or replaced) since the round began
      if (session.notAfter !== undefined && now >= session.notAfter) {
        log.info({ instance: session.instanceName }, 'agent certificate expired; closing its stream');
        refuse(session.call, grpc.status.UNAUTHENTICATED, 'the client certificate expired; the agent must renew it or enrol again');
        continue;
      }
      if (now - session.lastSeen > config.agentGraceSeconds * 1000) {
        log.warn({ instance: session.instanceName }, 'agent silent past its grace; closing its stream');
        refuse(session.call, grpc.status.DEADLINE_EXCEEDED, 'no message from the agent within the grace period');
        continue;
      }
      session.call.write({ heartbeat: { sentAtMs: String(now) } });
    }
    heartbeatTimer = clock.setTimeout(heartbeat, heartbeatTickMs);
  }

  const protocol = loadAgentProtocol();
  server.addService(protocol.AgentService.service, {
    Connect: connect,
    DownloadBundle: (call: grpc.ServerWritableStream<DownloadBundleRequest__Output, BundleChunk>) => void downloadBundle(call),
    Renew: (call: grpc.ServerUnaryCall<RenewRequest__Output, CertificateResponse>, callback: grpc.sendUnaryData<CertificateResponse>) => {
      Promise.resolve(callerOf(call)).then((caller) => {
        if (!caller.ok) return callback({ code: caller.code, details: caller.details });
        if (config.plaintextAgents) return callback({ code: grpc.status.FAILED_PRECONDITION, details: 'this coordinator runs its agents in plain text; there is no certificate to renew' });
        // The new certificate is for the caller's own instance, whatever the request's subject says.
        replyWith(enrolment.renew(caller.instanceName, call.request.csrPem), callback, log, 'agent certificate renewed');
      }, (err: unknown) => {
        log.error({ err }, 'checking a renewal\'s caller failed');
        callback({ code: grpc.status.UNAVAILABLE, details: 'the coordinator could not check the caller; retry after a backoff' });
      });
    },
  });

  return {
    attach(e) {
      engine = e;
    },
    async listen(host, port) {
      await abandonedClosed;
      return new Promise((resolve, reject) => {
        // Mutual TLS: the handshake itself refuses a client without a certificate from our CA.
        const credentials = config.plaintextAgents
          ? grpc.ServerCredentials.createInsecure()
          : grpc.ServerCredentials.createSsl(Buffer.from(enrolment.authority.certPem), [{ cert_chain: Buffer.from(deps.identity.chainPem), private_key: Buffer.from(deps.identity.keyPem) }], true);
        server.bindAsync(`${host}:${port}`, credentials, (err, bound) => {
          if (err) return reject(err);
          heartbeatTimer = clock.setTimeout(heartbeat, heartbeatTickMs);
          resolve(bound);
        });
      });
    },
    async close() {
      heartbeatTimer?.cancel();
      beatsTimer?.cancel();
      beats.clear(); // the ends recorded below carry each session's last heartbeat
      inbox.close(); // before the store closes
      // Recorded here, not when each stream's close event comes: by then the store may be closed.
      const now = clock.now();
      for (const session of sessions.values()) record('agent disconnected', () => deps.sessions.disconnected(session.instanceName, now, session.lastSeen));
      const open = [...sessions.values()];
      sessions.clear();
      for (const session of open) refuse(session.call, grpc.status.UNAVAILABLE, 'the coordinator is shutting down');
      await shutdownGrpcServer(server);
      await writes.settled(); // before the store closes
    },
    connectedCount: () => sessions.size,
    isConnected: (instanceName) => sessions.has(instanceName),
    disconnect(instanceName, details) {
      const session = sessions.get(instanceName);
      if (session !== undefined) refuse(session.call, grpc.status.PERMISSION_DENIED, details);
    },
    send(command: CommandRecord, deployment: DeploymentRecord, timeoutSeconds: number) {
      const session = sessions.get(command.instanceName);
      if (session === undefined) return false;
      return session.call.write({ command: toLifecycleCommand(command, deployment, timeoutSeconds) }) || true;
    },
    cancel(instanceName, commandId, reason) {
      sessions.get(instanceName)?.call.write({ cancel: { commandId, reason } });
    },
    acknowledge(instanceName, commandId) {
      sessions.get(instanceName)?.call.write({ resultAck: { commandId } });
    },
    offlineSince: (instanceName) => deps.sessionLookup.get(instanceName)?.disconnectedAt,
  };
}

function toResult(result: CommandResult__Output): AgentResult {
  return {
    commandId: result.commandId,
    status: result.status === 'COMMAND_STATUS_SUCCEEDED' ? 'Succeeded' : 'Failed',
    diagnostics: fromDiagnostics(result.diagnostics),
    ...(result.onFailure === null || result.onFailure === undefined
      ? {}
      : {
          onFailure: {
            status: result.onFailure.status === 'COMMAND_STATUS_SUCCEEDED' ? 'Succeeded' : 'Failed',
            diagnostics: fromDiagnostics(result.onFailure.diagnostics),
            startedAt: Number(result.onFailure.startedAtMs),
            endedAt: Number(result.onFailure.endedAtMs),
          },
        }),
  };
}

/** slices cuts a buffer into messages of at most `size` bytes (views, not copies). */
function* slices(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

/** chunked regroups a file stream's reads into messages of about `size` bytes. */
async function* chunked(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const piece of source) {
    pending.push(piece);
    length += piece.length;
    if (length >= size) {
      yield Buffer.concat(pending, length);
      pending = [];
      length = 0;
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}
