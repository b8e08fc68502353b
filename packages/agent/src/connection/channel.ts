/**
 * The agent's gRPC channel to its coordinator: credentials, keepalive and the instance metadata,
 * all in this one place, so mutual TLS later changes only {@link channelCredentials}.
 */
import type * as Grpc from '@grpc/grpc-js';
import type { AgentServiceClient } from '@fleetdeploy/protocol';
import type { GrpcRuntime } from './grpc-runtime.js';

/** INSTANCE_METADATA_KEY is the metadata key that names the instance on every call (until mutual TLS). */
export const INSTANCE_METADATA_KEY = 'fleetdeploy-instance';

/**
 * channelCredentials is how the agent authenticates its channel: plain text for now (the coordinator
 * accepts it only when started with plain text allowed); mutual TLS replaces this function's body.
 */
export function channelCredentials(grpc: typeof Grpc): Grpc.ChannelCredentials {
  return grpc.credentials.createInsecure();
}

/**
 * channelOptions are the channel settings: keepalive pings find a dead coordinator connection within
 * ~30 s even when no message flows; each agent gets its own connection (a local subchannel pool), as
 * a real host would, instead of sharing one with other agents in the same process.
 */
export const channelOptions: Readonly<Grpc.ChannelOptions> = Object.freeze({
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.use_local_subchannel_pool': 1,
  // The daemon runs its own jittered backoff around whole streams; each attempt uses a fresh channel.
  'grpc.initial_reconnect_backoff_ms': 1_000,
  'grpc.max_reconnect_backoff_ms': 10_000,
});

/** createAgentClient opens a client of AgentService to `address` (host:port). */
export function createAgentClient(runtime: GrpcRuntime, address: string): AgentServiceClient {
  return new runtime.AgentService(address, channelCredentials(runtime.grpc), { ...channelOptions });
}

/** instanceMetadata is the metadata every call of `instanceName` carries. */
export function instanceMetadata(grpc: typeof Grpc, instanceName: string): Grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(INSTANCE_METADATA_KEY, instanceName);
  return metadata;
}
