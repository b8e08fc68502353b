/**
 * A lifecycle command from the coordinator as the daemon sees it: parsed once at the connection's
 * edge into domain types, so nothing past src/connection handles proto messages.
 */
import type { DeploymentSpec } from '@fleetdeploy/shared';

/** BundleDigest is the size and hex SHA-256 the coordinator names for a revision's bundle. */
export interface BundleDigest {
  sha256: string;
  size: number;
}

/** AgentCommand is one LifecycleCommand: run `event` of the deployment `spec`. */
export interface AgentCommand {
  commandId: string;
  event: string;
  spec: DeploymentSpec;
  bundle: BundleDigest;
  /** The coordinator's own deadline for the event (the agent's script timeouts come from the AppSpec). */
  timeoutSeconds: number;
}

/**
 * ParsedCommand is a command that could be understood, or one that could not (its id and the
 * reason), which the agent answers with a Failed result rather than dropping.
 */
export type ParsedCommand =
  | { ok: true; command: AgentCommand }
  | { ok: false; commandId: string; event: string; deploymentId: string; reason: string };

/** InFlight names a command that is running now, for the Hello. */
export interface InFlight {
  commandId: string;
  deploymentId: string;
  event: string;
}
