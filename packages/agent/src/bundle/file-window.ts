/**
 * Random-access reads of a bundle through one reused buffer. A zip's entries usually lie one after
 * another, so a window of a few MiB serves dozens of entries' headers and data with one read: reading
 * each entry through its own stream (what yauzl does) cost two thread-pool round trips per entry,
 * which the profile of a 2,000-file zip showed as most of the unpack's time spent idle.
 */
import type { FileHandle } from 'node:fs/promises';

/** FileWindow reads byte ranges of an open file; a range it returns stays valid until the next read. */
export class FileWindow {
  private readonly buffer: Buffer;
  private start = 0;
  private end = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly fileBytes: number,
    readonly windowBytes: number,
  ) {
    this.buffer = Buffer.allocUnsafeSlow(windowBytes);
  }

  /** held returns bytes [pos, pos + length) when the window already holds them, without a read. */
  held(pos: number, length: number): Buffer | undefined {
    if (pos < this.start || pos + length > this.end) return undefined;
    return this.buffer.subarray(pos - this.start, pos - this.start + length);
  }

  /**
   * read returns bytes [pos, pos + length) (at most `windowBytes`), refilling the window from `pos`
   * when needed. A range past the end of the file is an error naming `what` was being read.
   */
  async read(pos: number, length: number, what: string): Promise<Buffer> {
    const hit = this.held(pos, length);
    if (hit !== undefined) return hit;
    if (length > this.windowBytes) throw new RangeError(`${what}: ${length} bytes is more than the read window of ${this.windowBytes}`);
    if (pos + length > this.fileBytes) throw new Error(pastEndMessage(what, pos + length, this.fileBytes));
    const want = Math.min(this.windowBytes, this.fileBytes - pos);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(this.buffer, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.start = pos;
    this.end = pos + got;
    if (got < length) throw new Error(cutMessage(what));
    return this.buffer.subarray(0, length);
  }
}

/** pastEndMessage words a read of `what` that would end at byte `end` of a file of `fileBytes`. */
export function pastEndMessage(what: string, end: number, fileBytes: number): string {
  return `${what} ends past the end of the file (byte ${end} of ${fileBytes})`;
}

/** cutMessage words a read of `what` that found the file shorter than when it was opened. */
export function cutMessage(what: string): string {
  return `${what} ends past the end of the file (it was cut while being read)`;
}
