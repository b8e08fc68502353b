import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { feedFile, readFileChunks } from './file-chunks.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fd-chunks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

describe('readFileChunks', () => {
  it('yields the whole file in order through one reused buffer', async () => {
    const data = randomBytes(10_000);
    writeFileSync(join(dir, 'f'), data);
    const buffers = new Set<ArrayBuffer>();
    const parts: Buffer[] = [];
    for await (const chunk of readFileChunks(join(dir, 'f'), 4096)) {
      buffers.add(chunk.buffer as ArrayBuffer);
      parts.push(Buffer.from(chunk));
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(parts.map((p) => p.length)).toEqual([4096, 4096, 1808]);
    expect(buffers.size).toBe(1);
  });

  it('rejects a path it cannot read', async () => {
    await expect(collect(readFileChunks(join(dir, 'missing'), 4096))).rejects.toThrow(/ENOENT/);
  });
});

describe('feedFile', () => {
  it('feeds gunzip a file many buffers long, each buffer refilled only after gunzip took it', async () => {
    const data = randomBytes(300_000);
    writeFileSync(join(dir, 'f.gz'), gzipSync(data));
    const gunzip = createGunzip();
    const [out] = await Promise.all([collect(gunzip), feedFile(join(dir, 'f.gz'), gunzip, 1024)]);
    expect(out.equals(data)).toBe(true);
  });

  it('rejects when the file cannot be read, and leaves the sink to the caller', async () => {
    const sink = new PassThrough();
    await expect(feedFile(dir, sink, 1024)).rejects.toThrow(/EISDIR/);
    expect(sink.writableEnded).toBe(false);
  });

  it('rejects when the sink is destroyed half-way instead of writing on', async () => {
    writeFileSync(join(dir, 'f'), randomBytes(64 * 1024));
    const sink = new PassThrough({ highWaterMark: 1024 });
    const fed = feedFile(join(dir, 'f'), sink, 1024);
    sink.once('data', () => sink.destroy());
    sink.resume();
    await expect(fed).rejects.toThrow(/destroyed/);
  });
});
