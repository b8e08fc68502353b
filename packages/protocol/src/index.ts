/**
 * The agent ⇄ coordinator contract: the service loaded from proto/fleetdeploy/agent/v1/agent.proto
 * and the TypeScript types generated from it (src/generated, made by `npm run generate`).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/agent.js';

export type * from './generated/fleetdeploy/agent/v1/AgentMessage.js';
export type * from './generated/fleetdeploy/agent/v1/CoordinatorMessage.js';
export type * from './generated/fleetdeploy/agent/v1/Hello.js';
export type * from './generated/fleetdeploy/agent/v1/LifecycleCommand.js';
export type * from './generated/fleetdeploy/agent/v1/CommandResult.js';
export type * from './generated/fleetdeploy/agent/v1/Diagnostics.js';
export type * from './generated/fleetdeploy/agent/v1/DeploymentSpec.js';
export type * from './generated/fleetdeploy/agent/v1/Revision.js';
export type * from './generated/fleetdeploy/agent/v1/BundleChunk.js';
export type * from './generated/fleetdeploy/agent/v1/DownloadBundleRequest.js';
export type * from './generated/fleetdeploy/agent/v1/AgentService.js';
export type * from './generated/fleetdeploy/agent/v1/EnrolmentService.js';
export type * from './generated/fleetdeploy/agent/v1/EnrolRequest.js';
export type * from './generated/fleetdeploy/agent/v1/RenewRequest.js';
export type * from './generated/fleetdeploy/agent/v1/CertificateResponse.js';
export { ErrorCode } from './generated/fleetdeploy/agent/v1/ErrorCode.js';
export { CommandStatus } from './generated/fleetdeploy/agent/v1/CommandStatus.js';

/** PROTO_ROOT is the folder holding fleetdeploy/agent/v1/agent.proto. */
export const PROTO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../proto');

/**
 * loadAgentProtocol loads the service for @grpc/grpc-js, with the options the generated types
 * assume: enums as strings, 64-bit integers as strings, defaults filled in, oneof names set.
 */
export function loadAgentProtocol(): ProtoGrpcType['fleetdeploy']['agent']['v1'] {
  const definition = protoLoader.loadSync('fleetdeploy/agent/v1/agent.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return (grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType).fleetdeploy.agent.v1;
}
