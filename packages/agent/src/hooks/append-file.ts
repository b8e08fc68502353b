/**
 * An append-only log file that is opened on the first write and kept open, so a chatty script costs
 * one open per event rather than one per output line, and a hook with no scripts leaves no file.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/**
 * AppendFile appends text to one file through a lazily opened write stream. Writes never throw: the
 * first error is kept and reported by {@link AppendFile.flush} and {@link AppendFile.close}, because a
 * log failure must not interrupt the script whose output is being logged.
 */
export class AppendFile {
  private stream: WriteStream | null = null;
  private pending = 0;
  private waiters: Array<() => void> = [];
  private error: Error | null = null;

  constructor(readonly path: string) {}

  /** write queues `text` for appending, creating the parent directories and the file if needed. */
  write(text: string): void {
    if (this.error) return;
    const stream = this.open();
    if (!stream) return;
    this.pending++;
    stream.write(text, () => this.settle());
  }

  /** flush resolves once every queued write reached the file, or rejects with the first write error. */
  async flush(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.error) throw this.error;
  }

  /**
   * close flushes and closes the file. A later write opens it again (in append mode), so one
   * instance can serve several lifecycle events.
   */
  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    if (stream && !stream.closed) {
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.end();
      });
    }
    await this.flush();
  }

  private open(): WriteStream | null {
    if (this.stream) return this.stream;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
    } catch (err) {
      this.fail(err);
      return null;
    }
    const stream = createWriteStream(this.path, { flags: 'a' });
    stream.on('error', (err) => this.fail(err));
    this.stream = stream;
    return stream;
  }

  private settle(): void {
    this.pending--;
    if (this.pending > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private fail(err: unknown): void {
    this.error ??= err instanceof Error ? err : new Error(String(err));
  }
}
