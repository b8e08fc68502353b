/**
 * An append-only log file that is opened on the first write and kept open, so a chatty script costs
 * one open per event rather than one per output line, and a hook with no scripts leaves no file.
 */
import { createWriteStream, existsSync, fstatSync, mkdirSync, openSync, renameSync } from 'node:fs';
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
  private size = 0;

  /**
   * @param rotation when set, a file that reaches `maxBytes` is renamed to `<path>.0` (older ones
   *   shift to `.1`, `.2`...) and a new one started, keeping `files` files in all, as the AWS agent's
   *   Ruby logger rotates its deployments log (64 MiB, 8 files).
   */
  constructor(
    readonly path: string,
    private readonly rotation?: { maxBytes: number; files: number },
  ) {}

  /** write queues `text` for appending, creating the parent directories and the file if needed. */
  write(text: string): void {
    if (this.error) return;
    let stream = this.open();
    if (stream && this.rotation && this.size >= this.rotation.maxBytes) {
      this.rotate(this.rotation.files);
      stream = this.open();
    }
    if (!stream) return;
    this.pending++;
    this.size += Buffer.byteLength(text);
    stream.write(text, () => this.settle());
  }

  /** Ends the current file (its queued writes still land: the stream keeps the renamed file open). */
  private rotate(files: number): void {
    this.stream?.end();
    this.stream = null;
    try {
      for (let i = files - 2; i >= 1; i--) {
        if (existsSync(`${this.path}.${i - 1}`)) renameSync(`${this.path}.${i - 1}`, `${this.path}.${i}`);
      }
      renameSync(this.path, `${this.path}.0`);
    } catch (err) {
      this.fail(err);
    }
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
    let fd: number;
    try {
      // Opened synchronously so the file exists at once (rotation renames it by path).
      fd = openSync(this.path, 'a');
      this.size = fstatSync(fd).size;
    } catch (err) {
      this.fail(err);
      return null;
    }
    const stream = createWriteStream(this.path, { fd });
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
