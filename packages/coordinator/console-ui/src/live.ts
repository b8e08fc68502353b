/**
 * The live event stream over a WebSocket: messages are handed on as parsed JSON; a stream that drops
 * (the coordinator restarted, the network blinked) is opened again after a growing pause, and the
 * caller hears of each (re)connection so it can read the state it may have missed.
 */

/** LiveMessage is one stream message (see the coordinator's api/event-stream.ts). */
export type LiveMessage =
  | { type: 'snapshot'; deployment: Deployment; instances: InstanceTarget[] }
  | { type: 'deployment'; deploymentId: string; status: string; at: number }
  | { type: 'instance'; deploymentId: string; instanceName: string; status: string; at: number }
  | { type: 'lifecycleEvent'; deploymentId: string; instanceName: string; lifecycleEvent: string; status: string; at: number }
  | { type: 'traffic'; deploymentId: string; weight: number; at: number }
  | { type: 'agentWaiting'; deploymentId: string; instanceName: string; lifecycleEvent: string; at: number }
  | { type: 'guidedFailure'; deploymentId: string; instanceName: string; lifecycleEvent: string; at: number };

/** HeldInstance is one failed instance a guided-failure deployment waits on (GetDeployment's guidedFailure). */
export interface HeldInstance {
  instanceId: string;
  lifecycleEvent?: string;
  errorCode?: string;
  message?: string;
  attempt: number;
}

/** Deployment is GetDeployment's deploymentInfo, the fields the console shows. */
export interface Deployment {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  status: string;
  createTime?: number;
  completeTime?: number;
  deploymentOverview?: Record<string, number>;
  errorInformation?: { code?: string; message?: string };
  deploymentStyle?: { deploymentType?: string; deploymentOption?: string };
  deploymentConfigName?: string;
  creator?: string;
  description?: string;
  /** Present while the deployment waits for an operator to retry, skip or fail a failed instance. */
  guidedFailure?: { waitingInstances: HeldInstance[]; choices: string[] };
}

/** LifecycleEvent is one event of an instance target. */
export interface LifecycleEvent {
  lifecycleEventName: string;
  status: string;
  startTime?: number;
  endTime?: number;
  diagnostics?: { errorCode?: string; scriptName?: string; message?: string; logTail?: string };
}

/** InstanceTarget is BatchGetDeploymentTargets' instanceTarget. */
export interface InstanceTarget {
  targetId: string;
  status: string;
  lastUpdatedAt?: number;
  lifecycleEvents?: LifecycleEvent[];
  instanceLabel?: string;
}

/** Live is an open stream; close ends it for good. */
export interface Live {
  close(): void;
}

/** openLive keeps a stream open to `url` until closed, or until the server ends it with 1000 (a finished deployment). */
export function openLive(url: string, onMessage: (m: LiveMessage) => void, onState: (connected: boolean) => void): Live {
  let ws: WebSocket | undefined;
  let closed = false;
  let pause = 500;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connect = (): void => {
    ws = new WebSocket(url);
    ws.onopen = () => {
      pause = 500;
      onState(true);
    };
    ws.onmessage = (e) => {
      try {
        onMessage(JSON.parse(String(e.data)) as LiveMessage);
      } catch {
        // a frame that is not JSON is not ours to show
      }
    };
    ws.onclose = (e) => {
      onState(false);
      if (closed || e.code === 1000) return;
      timer = setTimeout(connect, pause);
      pause = Math.min(pause * 2, 10_000);
    };
  };
  connect();
  return {
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      ws?.close();
    },
  };
}
