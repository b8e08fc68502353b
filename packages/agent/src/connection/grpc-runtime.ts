/**
 * Loading gRPC on demand: `fleetdeploy-agent local` never needs it, so @grpc/grpc-js and the
 * protocol package are imported dynamically here, once per process, and the loaded runtime is passed
 * to every agent daemon the process runs (a benchmark runs a hundred in one process).
 */
import type * as Grpc from '@grpc/grpc-js';
import type { loadAgentProtocol } from '@fleetdeploy/protocol';

/** AgentServiceClientConstructor is the generated client class of AgentService. */
export type AgentServiceClientConstructor = ReturnType<typeof loadAgentProtocol>['AgentService'];

/** GrpcRuntime is grpc-js itself and the loaded AgentService client class. */
export interface GrpcRuntime {
  grpc: typeof Grpc;
  AgentService: AgentServiceClientConstructor;
}

/** loadGrpcRuntime imports grpc-js and loads agent.proto (proto-loader reads it from disk). */
export async function loadGrpcRuntime(): Promise<GrpcRuntime> {
  const [grpc, protocol] = await Promise.all([import('@grpc/grpc-js'), import('@fleetdeploy/protocol')]);
  return { grpc, AgentService: protocol.loadAgentProtocol().AgentService };
}
