/**
 * DeploymentEvent is what the engine tells the outside world after each committed step: the
 * coordinator's event stream (the CLI's --watch) and its triggers are built on these. Published only
 * after the store transaction commits, so a listener never sees a step that was rolled back.
 */
import type { DeploymentStatus, LifecycleEventRecord, TargetStatus } from '../store/records.js';

export type DeploymentEvent =
  | { type: 'deployment'; deploymentId: string; status: DeploymentStatus; errorCode?: string; at: number }
  | { type: 'instance'; deploymentId: string; instanceName: string; status: TargetStatus; at: number }
  | {
      type: 'lifecycleEvent';
      deploymentId: string;
      instanceName: string;
      lifecycleEvent: string;
      status: LifecycleEventRecord['status'];
      diagnostics?: LifecycleEventRecord['diagnostics'];
      /** When the agent started and ended the event (set once it ended, if it started): its duration, without reading the target. */
      startTime?: number;
      endTime?: number;
      at: number;
    }
  /**
   * An instance's lifecycle event waits for its agent, which is not connected: when the event is
   * queued for an offline agent (started: false), or when the agent goes away with it queued or
   * running (started: true). offlineSince is unset when the agent never connected.
   */
  | { type: 'agentWaiting'; deploymentId: string; instanceName: string; lifecycleEvent: string; started: boolean; offlineSince?: number; at: number }
  /**
   * A traffic-shifted deployment (Lambda, ECS, Server blue/green) moved its traffic: `weight` is the
   * replacement's share in percent once a shift step is applied, 0 once a rollback put everything
   * back on the original. A restarted coordinator repeats the step it had recorded, so the same
   * weight may come twice.
   */
  | { type: 'traffic'; deploymentId: string; weight: number; at: number }
  /** Guided failure: an instance failed in `lifecycleEvent` and the deployment waits for an operator to retry, skip or fail it. */
  | { type: 'guidedFailure'; deploymentId: string; instanceName: string; lifecycleEvent: string; at: number };

/** DeploymentEventListener receives events in the order the engine committed them. */
export type DeploymentEventListener = (event: DeploymentEvent) => void;
