/**
 * Loading gRPC on demand: `fleetdeploy-agent local` never needs it, so @grpc/grpc-js and the
 * protocol package are imported dynamically here, once per process, and the loaded runtime is passed
 * to every agent daemon the process runs (a benchmark runs a hundred in one process).
 */
import type * as Grpc from '@grpc/grpc-js';
import type { loadAgentProtocol } from '@fleetdeploy/protocol';

/** AgentServiceClientConstructor is the generated client class of AgentService. */
export type AgentServiceClientConstructor = ReturnType<typeof loadAgentProtocol>['AgentService'];
/** EnrolmentServiceClientConstructor is the generated client class of EnrolmentService. */
export type EnrolmentServiceClientConstructor = ReturnType<typeof loadAgentProtocol>['EnrolmentService'];

/** GrpcRuntime is grpc-js itself and the loaded client classes. */
export interface GrpcRuntime {
  grpc: typeof Grpc;
  AgentService: AgentServiceClientConstructor;
  EnrolmentService: EnrolmentServiceClientConstructor;
}

/** loadGrpcRuntime imports grpc-js and loads agent.proto (proto-loader reads it from disk). */
export async function loadGrpcRuntime(): Promise<GrpcRuntime> {
  const [grpc, protocol] = await Promise.all([import('@grpc/grpc-js'), import('@fleetdeploy/protocol')]);
  const loaded = protocol.loadAgentProtocol();
  return { grpc, AgentService: loaded.AgentService, EnrolmentService: loaded.EnrolmentService };
}
