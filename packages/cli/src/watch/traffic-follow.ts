/**
 * `--watch` for a traffic-shifted (Lambda) deployment. The event stream says when the deployment's
 * status and hooks change, but not where the traffic is, so the watcher reads the deployment's
 * target (GetDeploymentTarget's LambdaTarget, which has the weight) after each message and every
 * POLL_MS between them, and prints what changed (traffic-target.ts). Messages are handled in order,
 * each after the look it may explain, so `deployment ... Succeeded` comes after the last weight.
 */
import type { AwsContext } from '../aws-context.js';
import type { TrafficTarget } from '../progress/traffic-target.js';
import { trafficChanges } from '../progress/traffic-target.js';
import { listDeploymentTargets, trafficTargets } from '../targets/list-targets.js';

/** POLL_MS is how often the target is read between messages: a weight moves at most once a minute. */
const POLL_MS = 500;

/** TrafficFollow follows one deployment's traffic target. */
export interface TrafficFollow {
  /** after runs `fn` once the target has been read again (and its changes printed). */
  after(fn: () => void): void;
  /** finish reads the target a last time, stops polling, and gives the target as it ended. */
  finish(): Promise<TrafficTarget | undefined>;
}

/** followTraffic starts polling; `print` gets the lines of each change. */
export function followTraffic(aws: AwsContext, deploymentId: string, print: (lines: string[]) => void, pollMs = POLL_MS): TrafficFollow {
  const known = new Map<string, TrafficTarget>();
  let queue: Promise<void> = Promise.resolve();
  let lookQueued = false;
  const look = async (): Promise<void> => {
    let targets: TrafficTarget[];
    try {
      targets = trafficTargets(await listDeploymentTargets(aws, deploymentId));
    } catch {
      return; // the stream reports a lost coordinator; the next look catches up
    }
    for (const t of targets) {
      const lines = trafficChanges(known.get(t.targetId), t);
      known.set(t.targetId, t);
      if (lines.length > 0) print(lines);
    }
  };
  const enqueue = (fn: () => Promise<void> | void): void => {
    queue = queue.then(fn).catch(() => undefined);
  };
  const timer = setInterval(() => {
    if (lookQueued) return;
    lookQueued = true;
    enqueue(async () => {
      lookQueued = false;
      await look();
    });
  }, pollMs);
  return {
    after(fn) {
      enqueue(async () => {
        await look();
        fn();
      });
    },
    async finish() {
      clearInterval(timer);
      enqueue(look);
      await queue;
      return [...known.values()][0];
    },
  };
}
