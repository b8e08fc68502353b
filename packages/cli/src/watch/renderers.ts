/**
 * Drawing a watched deployment. On a terminal: one progress bar per instance (steps = the lifecycle
 * events it got through, by the rule `status` uses), lifecycle-event lines printed above the bars,
 * the bars kept at the bottom (cli-progress's MultiBar), failures in red. Anywhere else (a pipe, a file, CI): the same lines as plain text, no escape codes.
 */
import type { WriteStream } from 'node:tty';
import cliProgress from 'cli-progress';
import { now } from '../clock.js';
import type { Paint } from '../output/colour.js';
import { formatElapsed } from '../progress/lifecycle-steps.js';
import type { DeploymentProgress, InstanceProgress, Update } from './progress.js';
import { instanceSteps, sortedInstances } from './progress.js';
import { labelWord } from '../progress/blue-green-view.js';

/** barName is an instance as its bar names it: `sim-2`, or `sim-2 green` in a blue/green deployment. */
function barName(i: InstanceProgress): string {
  const word = labelWord(i.label);
  return word === undefined ? i.name : `${i.name} ${word}`;
}

/** Renderer shows a deployment's progress as the model changes. */
export interface Renderer {
  /** update draws the model after one message and prints the update's lines. */
  update(p: DeploymentProgress, u: Update): void;
  /** stop leaves the display in its final state; lines printed afterwards go below it. */
  stop(): void;
}

/** createPlainRenderer writes each line as it comes; nothing is redrawn. */
export function createPlainRenderer(write: (line: string) => void): Renderer {
  return {
    update: (_p, u) => u.lines.forEach(write),
    stop: () => undefined,
  };
}

/** CLEAR_TO_END_OF_LINE is the terminal's EL (erase in line) sequence. */
const CLEAR_TO_END_OF_LINE = '\u001b[K';

/** DEFAULT_STEPS is a Server in-place deployment's lifecycle events per instance. */
const DEFAULT_STEPS = 7;

/** BAR_SIZE is a bar's width in characters. */
const BAR_SIZE = 24;

/** BarPayload is what a bar shows besides its value; `failed` draws it in red. */
interface BarPayload {
  name: string;
  event: string;
  status: string;
  failed: boolean;
}

/** TICK_MS is how often the running events' elapsed times are redrawn. */
const TICK_MS = 1000;

/**
 * createTtyRenderer draws bars on `stream` (a terminal): failures in red (`paint` says whether colour
 * is wanted), the running event with its elapsed time. When there are more instances than fit on the
 * screen, one bar counts every instance's steps together.
 */
export function createTtyRenderer(stream: WriteStream, paint: Paint): Renderer {
  const drawBar = (progress: number, payload: BarPayload): string => {
    const filled = Math.round(Math.max(0, Math.min(1, progress)) * BAR_SIZE);
    const bar = '█'.repeat(filled) + '░'.repeat(BAR_SIZE - filled);
    return payload.failed ? paint.red(bar) : bar;
  };
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: (_options, params, payload: BarPayload) => ` ${payload.name} ${drawBar(params.progress, payload)} ${params.value}/${params.total} ${payload.event} ${payload.status}`,
      barsize: BAR_SIZE,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
      fps: 12,
      forceRedraw: true,
    },
    cliProgress.Presets.shades_grey,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  let overall: cliProgress.SingleBar | undefined;
  let width = 8;

  let latest: DeploymentProgress | undefined;

  const payload = (p: DeploymentProgress, i: InstanceProgress): BarPayload => {
    const steps = instanceSteps(p, i);
    const failed = i.status === 'Failed' || steps.failed !== undefined;
    const running = steps.running?.startedAt === undefined ? '' : ` ${formatElapsed(now() - steps.running.startedAt)}`;
    return {
      name: barName(i).padEnd(width),
      event: `${steps.current ?? ''}${running}`.padEnd(24),
      status: failed ? paint.red(i.status) : i.status,
      failed,
    };
  };

  const rebuild = (p: DeploymentProgress): void => {
    const instances = sortedInstances(p);
    width = Math.max(8, ...instances.map((i) => barName(i).length));
    const fits = instances.length <= Math.max(1, (stream.rows || 24) - 6);
    for (const b of bars.values()) multibar.remove(b);
    bars.clear();
    if (overall !== undefined) multibar.remove(overall);
    overall = undefined;
    if (fits) {
      for (const i of instances) bars.set(i.name, multibar.create(i.events.size || DEFAULT_STEPS, instanceSteps(p, i).done, payload(p, i)));
    } else {
      overall = multibar.create(1, 0, { name: 'all', event: '', status: '', failed: false });
    }
  };

  const draw = (p: DeploymentProgress): void => {
    if (overall !== undefined) {
      const instances = [...p.instances.values()];
      const total = instances.reduce((n, i) => n + (i.events.size || DEFAULT_STEPS), 0);
      const done = instances.reduce((n, i) => n + instanceSteps(p, i).done, 0);
      const finished = instances.filter((i) => ['Succeeded', 'Failed', 'Skipped'].includes(i.status)).length;
      const failed = instances.filter((i) => i.status === 'Failed').length;
      overall.setTotal(Math.max(1, total));
      const event = `${finished} finished${failed > 0 ? `, ${failed} failed` : ''}`;
      overall.update(done, { name: `${instances.length} instances`.padEnd(width), event: event.padEnd(24), status: p.status, failed: failed > 0 });
      return;
    }
    for (const i of p.instances.values()) {
      const bar = bars.get(i.name);
      if (bar === undefined) continue;
      bar.setTotal(i.events.size || DEFAULT_STEPS);
      bar.update(instanceSteps(p, i).done, payload(p, i));
    }
  };
  // the running events' elapsed times move on between messages
  const ticker = setInterval(() => latest !== undefined && draw(latest), TICK_MS);
  ticker.unref();

  return {
    update(p, u) {
      latest = p;
      if (u.rebuilt) {
        rebuild(p);
        multibar.update(); // draw the new bars first, so the lines below land above them, not over them
      }
      // Clear to the end of the row: a line written where a longer bar was drawn leaves no remnant.
      for (const line of u.lines) multibar.log(`${u.failure === true ? paint.red(line) : line}${CLEAR_TO_END_OF_LINE}\n`);
      draw(p);
    },
    stop() {
      clearInterval(ticker);
      multibar.update(); // flush logged lines and the bars' last values
      multibar.stop();
    },
  };
}
