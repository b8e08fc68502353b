/**
 * Drawing a watched deployment. On a terminal: one progress bar per instance (steps = its lifecycle
 * events), lifecycle-event lines printed above the bars, the bars kept at the bottom (cli-progress's
 * MultiBar). Anywhere else (a pipe, a file, CI): the same lines as plain text, no escape codes.
 */
import type { WriteStream } from 'node:tty';
import cliProgress from 'cli-progress';
import type { DeploymentProgress, InstanceProgress, Update } from './progress.js';
import { currentEvent, sortedInstances, stepsDone } from './progress.js';

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

/**
 * createTtyRenderer draws bars on `stream` (a terminal). When there are more instances than fit
 * on the screen, one bar counts every instance's steps together.
 */
export function createTtyRenderer(stream: WriteStream): Renderer {
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: ' {name} {bar} {value}/{total} {event} {status}',
      barsize: 24,
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

  const payload = (i: InstanceProgress): { name: string; event: string; status: string } => ({
    name: i.name.padEnd(width),
    event: (currentEvent(i) ?? '').padEnd(17),
    status: i.status,
  });

  const rebuild = (p: DeploymentProgress): void => {
    const instances = sortedInstances(p);
    width = Math.max(8, ...instances.map((i) => i.name.length));
    const fits = instances.length <= Math.max(1, (stream.rows || 24) - 6);
    for (const b of bars.values()) multibar.remove(b);
    bars.clear();
    if (overall !== undefined) multibar.remove(overall);
    overall = undefined;
    if (fits) {
      for (const i of instances) bars.set(i.name, multibar.create(i.events.size || DEFAULT_STEPS, stepsDone(i), payload(i)));
    } else {
      overall = multibar.create(1, 0, { name: 'all', event: '', status: '' });
    }
  };

  const draw = (p: DeploymentProgress): void => {
    if (overall !== undefined) {
      const instances = [...p.instances.values()];
      const total = instances.reduce((n, i) => n + (i.events.size || DEFAULT_STEPS), 0);
      const done = instances.reduce((n, i) => n + stepsDone(i), 0);
      const finished = instances.filter((i) => ['Succeeded', 'Failed', 'Skipped'].includes(i.status)).length;
      overall.setTotal(Math.max(1, total));
      overall.update(done, { name: `${instances.length} instances`.padEnd(width), event: `${finished} finished`.padEnd(17), status: p.status });
      return;
    }
    for (const i of p.instances.values()) {
      const bar = bars.get(i.name);
      if (bar === undefined) continue;
      bar.setTotal(i.events.size || DEFAULT_STEPS);
      bar.update(stepsDone(i), payload(i));
    }
  };

  return {
    update(p, u) {
      if (u.rebuilt) {
        rebuild(p);
        multibar.update(); // draw the new bars first, so the lines below land above them, not over them
      }
      // Clear to the end of the row: a line written where a longer bar was drawn leaves no remnant.
      for (const line of u.lines) multibar.log(`${line}${CLEAR_TO_END_OF_LINE}\n`);
      draw(p);
    },
    stop() {
      multibar.update(); // flush logged lines and the bars' last values
      multibar.stop();
    },
  };
}
