/**
 * Hand-made tar blocks for tests of hostile bundles: a header may declare any size, whether or not
 * the content follows, which no tar tool writes.
 */

/** tarHeader is one ustar header block for a regular file that declares `size` bytes of content. */
export function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  for (const [at, len, value] of [[100, 8, 0o644], [108, 8, 0], [116, 8, 0], [124, 12, size], [136, 12, 1_700_000_000]] as const) {
    h.write(`${value.toString(8).padStart(len - 1, '0')}\0`, at, len, 'latin1');
  }
  h.write('0', 156, 1, 'latin1');
  h.write('ustar\u000000', 257, 8, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

/** tarFile is a whole tar member: header, content, padding to the block. */
export function tarFile(name: string, content: string | Buffer): Buffer {
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  return Buffer.concat([tarHeader(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** TAR_END is the two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(1024);
