/**
 * The gate between a tar stream and whatever writes it. Each chunk goes to node-tar's Parser first;
 * its 'entry' handlers judge every header the chunk completes (synchronously, inside `write`). Only
 * then is the chunk passed on, so a writer never receives a complete header the bundle index has not
 * admitted: at most the first bytes of the next header, which nothing can act on.
 */
import { Writable } from 'node:stream';
import type * as tar from 'tar';

/**
 * TAR_BLOCK_BYTES is one tar header. Until the parser has seen this much it may still be sniffing
 * for compression and holding bytes back unparsed, so the gate holds them back too.
 */
const TAR_BLOCK_BYTES = 512;

/**
 * JudgedStream is the writable end of a tar stream: it feeds `parser` and forwards each chunk to
 * `forward` (when given) once the parser has emitted every entry that chunk completes. The parser
 * returns false from `write` while it still holds entries it has not emitted (their handlers have not
 * run), and the chunk waits for its 'drain'. Once `stopped()` says the bundle is refused, nothing more
 * is forwarded.
 */
export class JudgedStream extends Writable {
  private fed = 0;
  private held: Buffer[] = [];

  constructor(
    private readonly parser: tar.Parser,
    private readonly forward: Writable | undefined,
    private readonly stopped: () => boolean,
  ) {
    super({ highWaterMark: 0 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.fed += chunk.length;
    const judged = this.parser.write(chunk);
    const pass = (): void => this.pass(chunk, done);
    if (judged) pass();
    else this.parser.once('drain', pass);
  }

  override _final(done: (err?: Error | null) => void): void {
    // end() parses what the parser still buffers (and emits its entries) before it returns.
    this.parser.end();
    if (this.forward === undefined || this.stopped()) return done();
    for (const chunk of this.held) this.forward.write(chunk);
    this.held = [];
    this.forward.end();
    done();
  }

  private pass(chunk: Buffer, done: () => void): void {
    if (this.forward === undefined || this.stopped()) return done();
    this.held.push(chunk);
    if (this.fed < TAR_BLOCK_BYTES) return done();
    const out = this.forward;
    let ok = true;
    for (const c of this.held) ok = (out.destroyed ? true : out.write(c)) && ok;
    this.held = [];
    if (ok || out.destroyed) return done();
    // A writer that dies (tar exited) never drains; its exit status tells the caller why.
    const go = (): void => {
      out.off('drain', go);
      out.off('close', go);
      done();
    };
    out.on('drain', go);
    out.on('close', go);
  }
}
