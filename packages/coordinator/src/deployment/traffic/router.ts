/**
 * TrafficRouter is what the traffic driver needs from whatever carries the traffic (a Lambda alias,
 * an ECS service's listeners and task sets; an HAProxy backend next). Every call is idempotent, because after a
 * restart the driver repeats the step it had recorded but may not have finished.
 */

import type { PrepareStage } from './plan.js';

/** TrafficRouter moves one deployment's traffic between the original and the replacement. */
export interface TrafficRouter {
  /** check confirms that all traffic is on the original, as the deployment expects; throws a {@link RouterError} if not. */
  check(): Promise<void>;
  /** shift gives the replacement `weight` percent (1–100); 100 makes the replacement the only target. */
  shift(weight: number): Promise<void>;
  /** rollback puts all traffic back on the original, with nothing routed to the replacement. */
  rollback(): Promise<void>;
  /** prepare takes a step before the shift (ECS: create the replacement, route test traffic to it); routers without one never get it. */
  prepare?(stage: PrepareStage): Promise<void>;
  /** cleanup removes the original once the termination wait is over (ECS: delete the original task set). */
  cleanup?(): Promise<void>;
  /** invokeHook starts a validation function asynchronously with CodeDeploy's payload. */
  invokeHook(functionName: string, payload: { DeploymentId: string; LifecycleEventHookExecutionId: string }): Promise<void>;
}

/** RouterError is a router's failure with the CodeDeploy ErrorCode the deployment ends with. */
export class RouterError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RouterError';
  }
}

/** isRouterError tells a {@link RouterError} by its name (never instanceof across module copies). */
export function isRouterError(err: unknown): err is RouterError {
  return err instanceof Error && err.name === 'RouterError' && typeof (err as RouterError).code === 'string';
}
