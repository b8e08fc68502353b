/**
 * `--watch` for a Lambda or ECS deployment, whose one target (`function:alias`, `cluster:service`)
 * has no agent to report its events. The coordinator's `traffic` messages tell each weight as the
 * shift applies it, so every step is printed (a rollback too: back to 0). The target's events are
 * read with GetDeploymentTarget (LambdaTarget, ECSTarget) after each message and every POLL_MS
 * between them, and what changed is printed (traffic-target.ts). Messages are handled in order,
 * each after the look it may explain, so `deployment ... Succeeded` comes after the last weight.
 *
 * A coordinator from before `traffic` messages never sends one: until the first arrives, the weight
 * the looks read is printed when it changes (steps a look misses are missed, as they were).
 */
import type { AwsContext } from '../aws-context.js';
import type { TrafficTarget } from '../progress/traffic-target.js';
import { trafficChanges, weightLine } from '../progress/traffic-target.js';
import { listDeploymentTargets, trafficTargets } from '../targets/list-targets.js';

/** POLL_MS is how often the target is read between messages, for events the stream does not tell (ECS's Install). */
const POLL_MS = 500;

/** TrafficFollow follows one deployment's traffic target. */
export interface TrafficFollow {
  /** after runs `fn` once the target has been read again (and its changes printed). */
  after(fn: () => void): void;
  /** weight prints the coordinator's `traffic` message, then reads the target for the events it explains (AllowTraffic's end). */
  weight(percent: number): void;
  /** finish reads the target a last time, stops polling, and gives the target as it ended. */
  finish(): Promise<TrafficTarget | undefined>;
}

/** TrafficWatch is what the watcher knows of the targets; pure, apart from `print`. */
export interface TrafficWatch {
  readonly known: Map<string, TrafficTarget>;
  /** Set once a `traffic` message came: from then on the weights are the messages'. */
  told: boolean;
}

/** seeTarget takes a look's target and gives the lines it changes; after a `traffic` message the weight stays the messages'. */
export function seeTarget(w: TrafficWatch, t: TrafficTarget): string[] {
  const before = w.known.get(t.targetId);
  const lines = trafficChanges(before, t, !w.told);
  w.known.set(t.targetId, w.told && before !== undefined ? { ...t, weightPercent: before.weightPercent } : t);
  return lines;
}

/** seeWeight takes a `traffic` message and gives its line, or none when it repeats the weight known (a target must have been seen). */
export function seeWeight(w: TrafficWatch, percent: number): string[] {
  w.told = true;
  const lines: string[] = [];
  for (const [id, t] of w.known) {
    if (t.weightPercent === percent) continue;
    const moved = { ...t, weightPercent: percent };
    w.known.set(id, moved);
    lines.push(weightLine(moved));
  }
  return lines;
}

/** followTraffic starts reading the target; `print` gets the lines of each change. */
export function followTraffic(aws: AwsContext, deploymentId: string, print: (lines: string[]) => void, pollMs = POLL_MS): TrafficFollow {
  const w: TrafficWatch = { known: new Map(), told: false };
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
      const lines = seeTarget(w, t);
      if (lines.length > 0) print(lines);
    }
  };
  const enqueue = (fn: () => Promise<void> | void): void => {
    queue = queue.then(fn).catch(() => undefined);
  };
  enqueue(look); // where things stand, before any message is handled
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
    weight(percent) {
      enqueue(async () => {
        if (w.known.size === 0) await look();
        const lines = seeWeight(w, percent);
        if (lines.length > 0) print(lines);
        await look();
      });
    },
    async finish() {
      clearInterval(timer);
      enqueue(look);
      await queue;
      return [...w.known.values()][0];
    },
  };
}
