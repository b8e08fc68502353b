/**
 * A small in-process coordinator for tests: AgentService on 127.0.0.1, recording what agents send
 * and letting the test send commands, refuse streams with a status, and serve (or break) bundles.
 * The real coordinator is written separately against docs/agent-protocol.md; this one does only what
 * a test asks.
 */
import * as grpc from '@grpc/grpc-js';
import { loadAgentProtocol } from '@fleetdeploy/protocol';
import type { AgentMessage__Output, CoordinatorMessage, DownloadBundleRequest__Output, Hello__Output, LifecycleCommand } from '@fleetdeploy/protocol';

/** BundleServing is how the fake serves one command's bundle. */
export interface BundleServing {
  bytes: Buffer;
  /** End the first stream with UNAVAILABLE after this many bytes (a broken download). */
  breakAfter?: number;
  chunkSize?: number;
}

/** FakeCoordinator is the running fake. */
export interface FakeCoordinator {
  readonly port: number;
  readonly address: string;
  /** Every message every stream received, in order, with the stream's number (from 1). */
  readonly received: { stream: number; message: AgentMessage__Output }[];
  readonly hellos: Hello__Output[];
  /** The fleetdeploy-instance metadata of each Connect and DownloadBundle call. */
  readonly instances: string[];
  readonly downloads: DownloadBundleRequest__Output[];
  /** How many Connect calls arrived. */
  streams(): number;
  /** send writes to the newest open stream. */
  send(message: CoordinatorMessage): void;
  command(command: LifecycleCommand): void;
  /** refuseNext ends the next `count` Connect calls with `code` right after their hello. */
  refuseNext(code: grpc.status, count?: number): void;
  /** autoAck: acknowledge every result (from hellos and CommandResult) as it arrives (default true). */
  autoAck: boolean;
  /** welcome: what Welcome says (heartbeat seconds). */
  heartbeatSeconds: number;
  serveBundle(commandId: string, serving: BundleServing): void;
  /** results lists every CommandResult received (not those in hellos). */
  results(): NonNullable<AgentMessage__Output['result']>[];
  stop(): Promise<void>;
}

/** startFakeCoordinator listens on 127.0.0.1:`port` (0: any free port). */
export async function startFakeCoordinator(port = 0): Promise<FakeCoordinator> {
  const service = loadAgentProtocol().AgentService.service;
  const server = new grpc.Server();
  const received: FakeCoordinator['received'] = [];
  const hellos: Hello__Output[] = [];
  const instances: string[] = [];
  const downloads: DownloadBundleRequest__Output[] = [];
  const bundles = new Map<string, BundleServing & { served: number }>();
  let streamCount = 0;
  let refusals: { code: grpc.status; count: number } | undefined;
  let current: grpc.ServerDuplexStream<AgentMessage__Output, CoordinatorMessage> | undefined;
  const calls = new Set<grpc.ServerDuplexStream<AgentMessage__Output, CoordinatorMessage>>();

  const fake: FakeCoordinator = {
    port: 0,
    address: '',
    received,
    hellos,
    instances,
    downloads,
    autoAck: true,
    heartbeatSeconds: 30,
    streams: () => streamCount,
    send(message) {
      if (!current) throw new Error('no agent stream is open');
      current.write(message);
    },
    command(command) {
      fake.send({ command });
    },
    refuseNext(code, count = 1) {
      refusals = { code, count };
    },
    serveBundle(commandId, serving) {
      bundles.set(commandId, { ...serving, served: 0 });
    },
    results: () => received.filter((r) => r.message.body === 'result').map((r) => r.message.result!),
    async stop() {
      for (const call of calls) call.destroy();
      server.forceShutdown();
    },
  };

  server.addService(service, {
    Connect(call: grpc.ServerDuplexStream<AgentMessage__Output, CoordinatorMessage>) {
      const n = ++streamCount;
      instances.push(String(call.metadata.get('fleetdeploy-instance')[0] ?? ''));
      calls.add(call);
      call.on('error', () => undefined);
      call.on('close', () => calls.delete(call));
      call.on('end', () => call.end());
      call.on('data', (message: AgentMessage__Output) => {
        received.push({ stream: n, message });
        if (message.body === 'hello' && message.hello) {
          hellos.push(message.hello);
          if (refusals && refusals.count > 0) {
            refusals.count -= 1;
            call.emit('error', { code: refusals.code, details: `refused by the fake (${grpc.status[refusals.code]})` });
            return;
          }
          current = call;
          call.write({ welcome: { coordinatorVersion: 'fake', heartbeatIntervalSeconds: fake.heartbeatSeconds, graceSeconds: 3 * fake.heartbeatSeconds } });
          if (fake.autoAck) for (const r of message.hello.unacknowledgedResults) call.write({ resultAck: { commandId: r.commandId } });
        }
        if (message.body === 'result' && message.result && fake.autoAck) call.write({ resultAck: { commandId: message.result.commandId } });
      });
    },
    DownloadBundle(call: grpc.ServerWritableStream<DownloadBundleRequest__Output, unknown>) {
      instances.push(String(call.metadata.get('fleetdeploy-instance')[0] ?? ''));
      downloads.push(call.request);
      const serving = bundles.get(call.request.commandId);
      if (!serving) {
        call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'no such command for this instance' });
        return;
      }
      const offset = Number(call.request.offset);
      const chunk = serving.chunkSize ?? 16 * 1024;
      const first = serving.served === 0;
      serving.served += 1;
      const stopAt = first && serving.breakAfter !== undefined ? serving.breakAfter : serving.bytes.length;
      for (let at = offset; at < stopAt; at += chunk) {
        const end = Math.min(at + chunk, stopAt);
        call.write({ data: serving.bytes.subarray(at, end), ...(at === offset ? { totalSize: serving.bytes.length } : {}) });
      }
      if (stopAt < serving.bytes.length) call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the fake broke the download' });
      else call.end();
    },
  });

  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return Object.assign(fake, { port: bound, address: `127.0.0.1:${bound}` });
}
