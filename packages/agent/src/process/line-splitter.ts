/**
 * Splitting a byte stream into lines the way Ruby's IO#each_line does: every line keeps its "\n", and
 * a last line without one is still delivered when the stream ends.
 */

/**
 * LineSplitter turns chunks of bytes into text lines. It splits on the newline byte before decoding,
 * so a multi-byte UTF-8 character cut between two chunks is never mangled.
 */
export class LineSplitter {
  private partial: Buffer[] = [];

  constructor(private readonly onLine: (line: string) => void) {}

  /** push feeds one chunk; every complete line in it is delivered at once. */
  push(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
      this.partial.push(chunk.subarray(from, nl + 1));
      this.emit();
      from = nl + 1;
    }
    if (from < chunk.length) this.partial.push(chunk.subarray(from));
  }

  /** end delivers an unterminated last line, if any. */
  end(): void {
    if (this.partial.length > 0) this.emit();
  }

  private emit(): void {
    const line = this.partial.length === 1 ? this.partial[0]! : Buffer.concat(this.partial);
    this.partial = [];
    this.onLine(line.toString('utf8'));
  }
}
