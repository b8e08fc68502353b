/**
 * Agents' acks and results, gathered while the event loop reads its sockets and handed to the
 * engine together once it has read them all (setImmediate runs right after that I/O phase), so the
 * engine stores them in one transaction. Anything else the agent server asks of the engine first
 * flushes what is gathered, so the engine sees each agent's messages in the order they came.
 */
import type { AgentReport } from '../deployment/engine.js';

/** ReportBatch gathers reports and delivers them together. */
export interface ReportBatch {
  add(report: AgentReport): void;
  /** flush delivers what is gathered now (before another engine call, or at shutdown). */
  flush(): void;
}

/** MAX_BATCH bounds one transaction, so a burst does not hold the event loop in one long commit. */
export const MAX_BATCH = 500;

/** createReportBatch delivers to `deliver` at the next `schedule` turn, or as soon as MAX_BATCH are gathered. */
export function createReportBatch(deliver: (reports: readonly AgentReport[]) => void, schedule: (fn: () => void) => void = setImmediate): ReportBatch {
  let gathered: AgentReport[] = [];
  let scheduled = false;
  const flush = (): void => {
    if (gathered.length === 0) return;
    const reports = gathered;
    gathered = [];
    deliver(reports);
  };
  return {
    add(report) {
      gathered.push(report);
      if (gathered.length >= MAX_BATCH) return flush();
      if (scheduled) return;
      scheduled = true;
      schedule(() => {
        scheduled = false;
        flush();
      });
    },
    flush,
  };
}
