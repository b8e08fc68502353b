/**
 * What agents tell the engine (acks, results, connects, disconnects), queued in the order it came
 * and handed to the engine after the event loop's I/O phase, a slice of time per loop turn.
 *
 * Why: one libuv poll phase reads up to 48 × 1,024 ready sockets before timers or setImmediate run
 * again. At 10,000 agents, storing reports inside those reads made one loop turn last up to 30 s
 * (bench-fleet): timers, API requests and the agents' own streams all waited that long. Now a read
 * only queues; the engine then works through the queue for a slice at least as long as the rest of
 * the turn took (so a busy network cannot starve it), and at most MAX_SLICE_MS (so it cannot starve
 * the network and the API). Acks and results next to each other go to the engine as one batch,
 * which it stores in one transaction.
 *
 * The engine's steps are asynchronous (each is a transaction of its own): while the one handed over
 * last is still running, nothing more is handed over; what comes meanwhile waits here, and reports
 * that pile up go over as one larger batch once it ends, rather than as many steps queued behind it.
 */
import type { AgentReport } from '../deployment/engine.js';

/** EngineSink is the part of the engine the inbox hands work to. */
export interface EngineSink {
  /** Each returns the engine's step, when it has one running for the call; the next task waits for it to settle. */
  agentReports(reports: readonly AgentReport[]): void | Promise<void>;
  agentConnected(instanceName: string, inFlight: readonly string[]): void | Promise<void>;
  agentDisconnected(instanceName: string): void | Promise<void>;
}

/** EngineInbox queues what agents tell the engine. */
export interface EngineInbox {
  report(report: AgentReport): void;
  connected(instanceName: string, inFlight: readonly string[]): void;
  disconnected(instanceName: string): void;
  /**
   * close hands everything queued to the engine now (its steps queue behind the running one) and
   * takes nothing more: at shutdown, before the store closes (an agent keeps a result nobody
   * acknowledged and sends it to the next coordinator).
   */
  close(): void;
  /** pending counts what is queued. */
  pending(): number;
}

/** MAX_BATCH bounds the reports in one engine transaction, so one batch fits well inside a slice. */
export const MAX_BATCH = 100;
/** MIN_SLICE_MS is the engine's slice when the rest of the loop turn was quicker. */
export const MIN_SLICE_MS = 10;
/** MAX_SLICE_MS bounds the engine's slice, whatever the rest of the turn took. */
export const MAX_SLICE_MS = 50;

type Task =
  | { kind: 'report'; report: AgentReport }
  | { kind: 'connected'; instanceName: string; inFlight: readonly string[] }
  | { kind: 'disconnected'; instanceName: string };

/** InboxTiming lets tests drive the turns and the clock. */
export interface InboxTiming {
  schedule: (fn: () => void) => void;
  now: () => number;
}

const realTiming: InboxTiming = { schedule: setImmediate, now: () => performance.now() };

/** createEngineInbox hands what is queued to `sink()` (none yet: kept until there is one) turn by turn. */
export function createEngineInbox(sink: () => EngineSink | undefined, timing: InboxTiming = realTiming, givesWay?: () => boolean): EngineInbox {
  let queue: Task[] = [];
  let head = 0;
  let scheduled = false;
  let closed = false;
  /** The engine's step for the task handed over last, while it runs. */
  let inFlight: Promise<void> | undefined;
  /** When the last turn's slice ended: the rest of the loop turn is measured from there. */
  let lastSliceEnd = timing.now();

  /** Hands over the task at `head` (with the reports right behind it, as one batch); returns the engine's step, if any. */
  const handOne = (engine: EngineSink): void | Promise<void> => {
    const task = queue[head]!;
    if (task.kind === 'connected') {
      head++;
      return engine.agentConnected(task.instanceName, task.inFlight);
    }
    if (task.kind === 'disconnected') {
      head++;
      return engine.agentDisconnected(task.instanceName);
    }
    const batch: AgentReport[] = [];
    while (head < queue.length && batch.length < MAX_BATCH) {
      const next = queue[head]!;
      if (next.kind !== 'report') break;
      batch.push(next.report);
      head++;
    }
    return engine.agentReports(batch);
  };

  /** The next turn comes once the engine's step settles. */
  const awaitStep = (step: Promise<void>): void => {
    inFlight = step;
    const resume = (): void => {
      inFlight = undefined;
      if (head < queue.length) later();
    };
    step.then(resume, resume);
  };

  const compact = (): void => {
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 4096 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };

  const turn = (): void => {
    scheduled = false;
    const engine = sink();
    if (engine === undefined || closed || inFlight !== undefined) return;
    // An API transaction waiting for its turn goes first; this turn comes again right behind it (loop-priority.ts).
    if (givesWay?.() === true) return later();
    const start = timing.now();
    const slice = Math.min(MAX_SLICE_MS, Math.max(MIN_SLICE_MS, start - lastSliceEnd));
    try {
      while (head < queue.length) {
        const step = handOne(engine);
        if (step !== undefined) {
          awaitStep(step);
          break;
        }
        if (timing.now() - start >= slice) break;
      }
    } finally {
      compact();
      lastSliceEnd = timing.now();
      if (head < queue.length && inFlight === undefined) later();
    }
  };

  const later = (): void => {
    if (scheduled) return;
    scheduled = true;
    timing.schedule(turn);
  };

  const push = (task: Task): void => {
    if (closed) return;
    queue.push(task);
    later();
  };

  return {
    report: (report) => push({ kind: 'report', report }),
    connected: (instanceName, inFlight) => push({ kind: 'connected', instanceName, inFlight }),
    disconnected: (instanceName) => push({ kind: 'disconnected', instanceName }),
    close() {
      closed = true;
      const engine = sink();
      if (engine === undefined) return;
      try {
        while (head < queue.length) void handOne(engine); // each queues behind the one before; the engine's settled() waits for them
      } finally {
        compact();
      }
    },
    pending: () => queue.length - head,
  };
}
