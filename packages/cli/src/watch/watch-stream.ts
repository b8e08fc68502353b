/**
 * `--watch`: follow a deployment on the event stream, draw it (bars on a terminal, plain lines
 * elsewhere) and end with the one-line summary.
 */
import type { WriteStream } from 'node:tty';
import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { paintFor } from '../output/colour.js';
import { followDeployment } from './event-stream-client.js';
import type { DeploymentProgress } from './progress.js';
import { apply, newProgress, summaryLine } from './progress.js';
import type { Renderer } from './renderers.js';
import { createPlainRenderer, createTtyRenderer } from './renderers.js';
import type { TrafficFollow } from './traffic-follow.js';
import { followTraffic } from './traffic-follow.js';
import type { TrafficTarget } from '../progress/traffic-target.js';
import { trafficSummary } from '../progress/traffic-target.js';

/** WatchOutput is where the watch draws: a terminal gets bars, anything else plain lines. */
export interface WatchOutput {
  /** The terminal to draw bars on, when standard output is one. */
  readonly tty?: WriteStream;
  /** write prints one plain line. */
  write(line: string): void;
}

/** WatchResult is how the deployment ended. */
export interface WatchResult {
  readonly status: string;
  readonly summary: string;
  /** False when the watch was interrupted before the deployment ended. */
  readonly finished: boolean;
}

/** watchStream follows `deploymentId` to its end (or until `signal` aborts) and prints the summary. */
export async function watchStream(aws: AwsContext, deploymentId: string, out: WatchOutput, signal?: AbortSignal): Promise<WatchResult> {
  const progress = newProgress(deploymentId);
  let renderer: Renderer = out.tty !== undefined ? createTtyRenderer(out.tty, paintFor(out.tty)) : createPlainRenderer(out.write);
  let width = 8;
  // A Lambda or ECS deployment has no instances: its target and events are read beside the stream.
  let traffic: TrafficFollow | undefined;
  let ended: TrafficTarget | undefined;
  try {
    await followDeployment(
      aws,
      deploymentId,
      (m) => {
        if (m.type === 'snapshot') width = Math.max(8, ...m.instances.map((i) => i.targetId.length));
        if (m.type === 'snapshot' && (m.deployment.computePlatform === 'Lambda' || m.deployment.computePlatform === 'ECS') && traffic === undefined) {
          // no instances, so no bars: lines, on a terminal too
          renderer.stop();
          renderer = createPlainRenderer(out.write);
          renderer.update(progress, apply(progress, m, width));
          traffic = followTraffic(aws, deploymentId, (lines) => renderer.update(progress, { lines, rebuilt: false }));
          return;
        }
        if (traffic !== undefined && m.type === 'traffic') {
          if (m.deploymentId === deploymentId) traffic.weight(m.weight);
        } else if (traffic !== undefined) traffic.after(() => renderer.update(progress, apply(progress, m, width)));
        else renderer.update(progress, apply(progress, m, width));
      },
      signal === undefined ? {} : { signal },
    );
  } finally {
    ended = await traffic?.finish();
    renderer.stop();
  }
  const finished = ['Succeeded', 'Failed', 'Stopped'].includes(progress.status);
  const summary = finished ? summaryLine(progress, await why(aws, progress), ended === undefined ? undefined : trafficSummary(ended)) : `Deployment ${deploymentId} is still ${progress.status}; the watch stopped, the deployment did not: fleetdeploy status ${deploymentId} --watch resumes it`;
  // the last line stays readable after the bars: red when the deployment did not succeed
  out.write(finished && progress.status !== 'Succeeded' && out.tty !== undefined ? paintFor(out.tty).red(summary) : summary);
  return { status: progress.status, summary, finished };
}

/** why is the reason a deployment did not succeed (and its rollback), read once at the end. */
async function why(aws: AwsContext, p: DeploymentProgress): Promise<string | undefined> {
  if (p.status === 'Succeeded') return undefined;
  try {
    const info = (await aws.codedeploy.send(new GetDeploymentCommand({ deploymentId: p.deploymentId }))).deploymentInfo;
    const parts = [info?.errorInformation?.message ?? p.errorCode, info?.rollbackInfo?.rollbackDeploymentId ? `rolling back as ${info.rollbackInfo.rollbackDeploymentId}` : undefined];
    return parts.filter((x) => x !== undefined && x !== '').join('; ') || undefined;
  } catch {
    return p.errorCode;
  }
}
