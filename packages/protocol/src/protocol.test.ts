import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptErrorCode } from '@fleetdeploy/shared';
import { loadAgentProtocol } from './index.js';
import type { AgentMessage__Output, BundleChunk, CoordinatorMessage, CoordinatorMessage__Output } from './index.js';

const proto = loadAgentProtocol();
let server: grpc.Server | undefined;
afterEach(() => server?.forceShutdown());

describe('agent.proto', () => {
  it("mirrors the shared script error codes, name for name and number for number", () => {
    const values = (proto.ErrorCode as unknown as { type: { value: Array<{ name: string; number: number }> } }).type.value;
    const fromProto = values.map((v) => [v.name.replace(/^ERROR_CODE_/, '').toLowerCase().replaceAll('_', ''), v.number]);
    const fromShared = Object.entries(ScriptErrorCode).map(([name, n]) => [name.toLowerCase(), n]);
    expect(fromProto).toEqual(fromShared);
  });

  it('carries a hello, a welcome, a command and a chunked bundle over a real loopback server', async () => {
    server = new grpc.Server();
    server.addService(proto.AgentService.service, {
      Connect: (call: grpc.ServerDuplexStream<AgentMessage__Output, CoordinatorMessage>) => {
        call.on('end', () => call.end());
        call.on('data', (msg: AgentMessage__Output) => {
          if (msg.body !== 'hello') return;
          call.write({ welcome: { coordinatorVersion: 'test', heartbeatIntervalSeconds: 10, graceSeconds: 30 } });
          call.write({ command: { commandId: 'c-1', lifecycleEvent: 'DownloadBundle', timeoutSeconds: 60, deployment: { deploymentId: 'd-1', revision: { s3: { bucket: 'b', key: 'k.zip' }, bundleType: 'zip', sha256: 'ab', size: '3' } } } });
        });
      },
      DownloadBundle: (call: grpc.ServerWritableStream<unknown, BundleChunk>) => {
        call.write({ data: Buffer.from('ab'), totalSize: '3' });
        call.write({ data: Buffer.from('c') });
        call.end();
      },
    });
    const port = await new Promise<number>((resolve, reject) => server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    const client = new proto.AgentService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const stream = client.Connect();
      const received: CoordinatorMessage__Output[] = [];
      const two = new Promise<void>((resolve) => stream.on('data', (m: CoordinatorMessage__Output) => received.push(m) === 2 && resolve()));
      const closed = new Promise<void>((resolve, reject) => {
        stream.on('end', () => resolve());
        stream.on('error', reject);
      });
      stream.write({ hello: { instanceName: 'sim-1', agentVersion: '0.1.0', platform: 'linux' } });
      await two;
      stream.end();
      await closed;
      expect(received[0]).toMatchObject({ body: 'welcome', welcome: { graceSeconds: 30 } });
      expect(received[1]).toMatchObject({ body: 'command', command: { commandId: 'c-1', deployment: { revision: { location: 's3', s3: { bucket: 'b' }, size: '3' } } } });

      const chunks: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        const dl = client.DownloadBundle({ commandId: 'c-1' });
        dl.on('data', (c: { data: Buffer }) => chunks.push(c.data));
        dl.on('end', () => resolve());
        dl.on('error', reject);
      });
      expect(Buffer.concat(chunks).toString()).toBe('abc');
    } finally {
      client.close();
    }
  });
});
