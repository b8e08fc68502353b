/**
 * The agent's gRPC channel to its coordinator: credentials, keepalive and the instance metadata,
 * all in this one place. Credentials are mutual TLS with the enrolled identity (the coordinator's
 * CA as the only root, the agent's key and certificate), or plain text when the configuration
 * says `plaintext: true` (tests against a coordinator started with --plaintext-agents).
 */
import type * as Grpc from '@grpc/grpc-js';
import type { AgentServiceClient } from '@fleetdeploy/protocol';
import type { GrpcRuntime } from './grpc-runtime.js';
import { grpcDial } from './proxy.js';
import type { Endpoint } from './endpoints.js';
import type { TlsIdentity } from './tls-identity.js';

/** ChannelSecurity is how a channel authenticates: the enrolled identity, or plain text for tests. */
export type ChannelSecurity = { kind: 'mtls'; identity: TlsIdentity } | { kind: 'plaintext' };

/** INSTANCE_METADATA_KEY is the metadata key that names the instance on every call (with mutual TLS it must match the certificate). */
export const INSTANCE_METADATA_KEY = 'fleetdeploy-instance';

/**
 * channelCredentials is how the agent authenticates its channel: mutual TLS trusting only the
 * coordinator's CA (the server's name is checked against the configured host, see
 * {@link endpointChannelOptions}), or plain text.
 */
export function channelCredentials(grpc: typeof Grpc, security: ChannelSecurity): Grpc.ChannelCredentials {
  if (security.kind === 'plaintext') return grpc.credentials.createInsecure();
  const { identity } = security;
  return grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certPem));
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

/**
 * endpointChannelOptions are the options that dial `endpoint`. An endpoint found by looking its host
 * up is dialled by IP, yet TLS sends the configured host as the server name and checks the
 * certificate against it, as when grpc-js resolves a name itself: the operator configured a name,
 * and a certificate that lists only the address must not stand in for it. The authority is the
 * configured `host:port` too.
 */
export function endpointChannelOptions(endpoint: Endpoint): { target: string; options: Record<string, string | number> } {
  const { entry } = endpoint;
  const dial = grpcDial(endpoint.dial, entry.proxy);
  if (endpoint.dial === entry.address) return dial;
  return { target: dial.target, options: { ...dial.options, 'grpc.ssl_target_name_override': entry.host, 'grpc.default_authority': entry.address } };
}

/** createAgentClient opens a client of AgentService to `endpoint`, through its proxy when it has one. */
export function createAgentClient(runtime: GrpcRuntime, endpoint: Endpoint, security: ChannelSecurity): AgentServiceClient {
  const dial = endpointChannelOptions(endpoint);
  return new runtime.AgentService(dial.target, channelCredentials(runtime.grpc, security), { ...channelOptions, ...dial.options });
}

/** instanceMetadata is the metadata every call of `instanceName` carries. */
export function instanceMetadata(grpc: typeof Grpc, instanceName: string): Grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(INSTANCE_METADATA_KEY, instanceName);
  return metadata;
}
