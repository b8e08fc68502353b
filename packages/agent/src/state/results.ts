/**
 * Results the coordinator has not acknowledged yet, kept on disk so that neither an agent restart
 * nor a dropped stream loses one: each is written (atomically) before it is sent, re-sent in the next
 * hello, and deleted only when the coordinator acknowledges it. A command id whose result is on record
 * is answered from the record instead of being run again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostics } from '@fleetdeploy/shared';
import { writeFileAtomic } from './atomic-file.js';

/** HookOutcome is how a hook the agent ran on its own (OnFailure) ended. */
export interface HookOutcome {
  status: 'Succeeded' | 'Failed';
  diagnostics: Diagnostics;
  startedAtMs: number;
  endedAtMs: number;
}

/** StoredResult is one command's outcome as the agent reports it. */
export interface StoredResult {
  commandId: string;
  status: 'Succeeded' | 'Failed';
  noop: boolean;
  diagnostics: Diagnostics;
  startedAtMs: number;
  endedAtMs: number;
  /** The OnFailure hook's outcome, when the event failed and the revision has one. */
  onFailure?: HookOutcome;
}

/** ResultStore is the agent's folder of unacknowledged results. */
export class ResultStore {
  /**
   * `durable` (the default) fsyncs each result before it is reported: a result owed to the
   * coordinator must survive a power cut. A store of results the coordinator already holds (kept
   * only to answer redeliveries) need not pay for that.
   */
  constructor(
    private readonly dir: string,
    private readonly durable = true,
  ) {}

  /** save records a result atomically (write, fsync when durable, rename) before anything reports it. */
  save(result: StoredResult): void {
    writeFileAtomic(this.file(result.commandId), JSON.stringify(result), this.durable);
  }

  /** get returns the recorded result of a command, if there is one. */
  get(commandId: string): StoredResult | undefined {
    try {
      return parse(fs.readFileSync(this.file(commandId), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** acknowledge forgets a result the coordinator has stored. */
  acknowledge(commandId: string): void {
    fs.rmSync(this.file(commandId), { force: true });
  }

  /** pending lists every unacknowledged result, oldest first, skipping half-written leftovers. */
  pending(): StoredResult[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => parse(fs.readFileSync(path.join(this.dir, n), 'utf8')))
      .filter((r): r is StoredResult => r !== undefined)
      .sort((a, b) => a.endedAtMs - b.endedAtMs);
  }

  private file(commandId: string): string {
    // Command ids come from the coordinator; encoding keeps any id a single, safe file name.
    return path.join(this.dir, `${encodeURIComponent(commandId)}.json`);
  }
}

function parse(text: string): StoredResult | undefined {
  try {
    const value = JSON.parse(text) as StoredResult;
    return typeof value.commandId === 'string' ? value : undefined;
  } catch {
    return undefined; // a torn write cannot happen with rename, but a hand-edited file might be junk
  }
}
