import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import AdmZip from 'adm-zip';
import { describe, expect, it } from 'vitest';
import { defaultBundleLimits } from '@fleetdeploy/shared';
import { TAR_END, tarFile, tarHeader } from '../testing/crafted-tar.js';
import { BundleLimitError, NOOP_EVENT_SECONDS, eventTimeouts, readBundleAppSpec } from './bundle-appspec.js';

const APPSPEC = `version: 0.0
os: linux
hooks:
  AfterInstall:
    - location: a.sh
      timeout: 60
    - location: b.sh
      timeout: 90
  ApplicationStop:
    - location: stop.sh
      timeout: 10
  BeforeInstall:
    - location: c.sh
`;
const EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'];

describe('reading the AppSpec of a stored bundle', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-bundle-appspec-'));

  it('finds it at the top of a zip, or inside a single wrapper folder', async () => {
    const top = new AdmZip();
    top.addFile('appspec.yml', Buffer.from(APPSPEC));
    top.addFile('site/index.html', Buffer.from('<h1/>'));
    top.writeZip(path.join(dir, 'top.zip'));
    const wrapped = new AdmZip();
    wrapped.addFile('app-1.0/appspec.yml', Buffer.from('wrapped'));
    wrapped.writeZip(path.join(dir, 'wrapped.zip'));
    expect(await readBundleAppSpec(path.join(dir, 'top.zip'), 'zip')).toBe(APPSPEC);
    expect(await readBundleAppSpec(path.join(dir, 'wrapped.zip'), 'zip')).toBe('wrapped');
  });

  it('reads tar and tgz bundles, and says undefined when there is no AppSpec', async () => {
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(path.join(tree, 'site'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'appspec.yml'), APPSPEC);
    fs.writeFileSync(path.join(tree, 'site/index.html'), 'x');
    execFileSync('tar', ['-czf', path.join(dir, 'b.tgz'), '-C', tree, '.']);
    execFileSync('tar', ['-cf', path.join(dir, 'b.tar'), '-C', tree, 'site']);
    expect(await readBundleAppSpec(path.join(dir, 'b.tgz'), 'tgz')).toBe(APPSPEC);
    expect(await readBundleAppSpec(path.join(dir, 'b.tar'), 'tar')).toBeUndefined();
  });

  it('rejects a file that is not the bundle type it claims', async () => {
    fs.writeFileSync(path.join(dir, 'junk.zip'), 'not a zip at all');
    await expect(readBundleAppSpec(path.join(dir, 'junk.zip'), 'zip')).rejects.toThrow();
  });
});

const GiB = 1024 ** 3;

describe('the bundle limits while the AppSpec is looked for', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-bundle-limits-'));
  const tgz = (name: string, ...parts: Buffer[]): string => {
    fs.writeFileSync(path.join(dir, name), zlib.gzipSync(Buffer.concat(parts)));
    return path.join(dir, name);
  };
  const refusal = async (promise: Promise<unknown>): Promise<string> => {
    const err = await promise.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(BundleLimitError);
    return (err as Error).message;
  };

  it('stops at a top-level appspec.yml: an entry after it is never read, even one past every limit', async () => {
    const bundle = tgz('stops.tgz', tarFile('appspec.yml', APPSPEC), tarHeader('huge.bin', 30 * GiB));
    expect(await readBundleAppSpec(bundle, 'tgz')).toBe(APPSPEC);
  });

  it('reads on past a wrapper folder\'s AppSpec (a top-level one would win), and so meets the limits', async () => {
    const wins = tgz('wins.tgz', tarFile('app/appspec.yml', 'wrapped'), tarFile('appspec.yml', APPSPEC), TAR_END);
    expect(await readBundleAppSpec(wins, 'tgz')).toBe(APPSPEC);
    const bomb = tgz('wrapped-bomb.tgz', tarFile('app/appspec.yml', 'wrapped'), tarHeader('huge.bin', 30 * GiB));
    expect(await refusal(readBundleAppSpec(bomb, 'tgz'))).toBe(
      `bundle unpacks to at least ${30 * GiB + 7} bytes, more than the limit of ${20 * GiB} (bundle.maxTotalBytes)`,
    );
  });

  it('stops at the end marker: gigabytes of zeros after it are not inflated', async () => {
    // 64 MiB of zeros gzip to 64 KiB: read, they would expand 1000-fold, past the ratio limit.
    const bundle = path.join(dir, 'tail.tgz');
    const gzip = zlib.createGzip();
    const done = new Promise<void>((resolve) => gzip.pipe(fs.createWriteStream(bundle)).on('finish', () => resolve()));
    gzip.write(Buffer.concat([tarFile('app/appspec.yml', 'wrapped'), TAR_END]));
    for (let i = 0; i < 16; i++) gzip.write(Buffer.alloc(4 * 1024 * 1024));
    gzip.end();
    await done;
    expect(await readBundleAppSpec(bundle, 'tgz')).toBe('wrapped');
  });

  it('refuses a header that declares more than the ratio allows before its body is inflated', async () => {
    const bundle = tgz('ratio.tgz', tarHeader('zeros.bin', 100 * 1024 * 1024), tarFile('appspec.yml', APPSPEC));
    const size = fs.statSync(bundle).size;
    expect(await refusal(readBundleAppSpec(bundle, 'tgz'))).toBe(
      `bundle expands ${((100 * 1024 * 1024) / size).toFixed(1)} times (${100 * 1024 * 1024} bytes from ${size}), more than the limit of 200 (bundle.maxCompressionRatio)`,
    );
  });

  it('counts the inflated stream itself, so a bomb of headers alone is refused too', async () => {
    const headers = Array.from({ length: 3000 }, (_, i) => tarHeader(`empty-${i}`, 0));
    const bundle = tgz('headers.tgz', ...headers, TAR_END);
    const message = await refusal(readBundleAppSpec(bundle, 'tgz', { ...defaultBundleLimits, maxCompressionRatio: 5 }));
    expect(message).toMatch(/^bundle expands [\d.]+ times \(\d+ bytes from \d+\), more than the limit of 5 \(bundle\.maxCompressionRatio\)$/);
  });

  it('refuses more entries than the limit, in a tar and in a zip (from its central directory)', async () => {
    const limits = { ...defaultBundleLimits, maxEntries: 2 };
    const tar = tgz('entries.tgz', tarFile('a', 'a'), tarFile('b', 'b'), tarFile('c', 'c'), TAR_END);
    expect(await refusal(readBundleAppSpec(tar, 'tgz', limits))).toBe('bundle has 3 entries, more than the limit of 2 (bundle.maxEntries)');
    const zip = new AdmZip();
    for (const name of ['a', 'b', 'c']) zip.addFile(name, Buffer.from(name));
    zip.writeZip(path.join(dir, 'entries.zip'));
    expect(await refusal(readBundleAppSpec(path.join(dir, 'entries.zip'), 'zip', limits))).toBe('bundle has 3 entries, more than the limit of 2 (bundle.maxEntries)');
  });

  it('judges a zip entry by its declared size, and stops at a top-level appspec.yml before a later bomb', async () => {
    const bomb = new AdmZip(); // (adm-zip writes entries in name order)
    bomb.addFile('a-zeros.bin', Buffer.alloc(8 * 1024 * 1024));
    bomb.addFile('appspec.yml', Buffer.from(APPSPEC));
    bomb.writeZip(path.join(dir, 'bomb.zip'));
    expect(await refusal(readBundleAppSpec(path.join(dir, 'bomb.zip'), 'zip'))).toMatch(/^bundle expands .* \(8388608 bytes from \d+\), more than the limit of 200/);
    const first = new AdmZip();
    first.addFile('appspec.yml', Buffer.from(APPSPEC));
    first.addFile('zeros.bin', Buffer.alloc(8 * 1024 * 1024));
    first.writeZip(path.join(dir, 'first.zip'));
    expect(await readBundleAppSpec(path.join(dir, 'first.zip'), 'zip')).toBe(APPSPEC);
  });

  it('inflates a large bundle within the limits a chunk per turn of the event loop', async () => {
    // 64 MiB that compress about 100-fold (a few random bytes in every 64 KiB), the AppSpec last.
    const block = Buffer.alloc(64 * 1024);
    crypto.randomFillSync(block, 0, 600);
    const bundle = tgz('large.tgz', tarHeader('site.bin', 1024 * block.length), ...Array.from({ length: 1024 }, () => block), tarFile('appspec.yml', APPSPEC), TAR_END);
    let turns = 0;
    let counting = true;
    const count = (): void => {
      turns += 1;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    expect(await readBundleAppSpec(bundle, 'tgz')).toBe(APPSPEC);
    counting = false;
    // 64 MiB inflate in 256 KiB chunks: the loop must have turned between (nearly) all of them.
    expect(turns).toBeGreaterThan(200);
  });

  it('says a tgz that is neither gzip nor tar is unreadable, not too large', async () => {
    fs.writeFileSync(path.join(dir, 'junk.tgz'), 'x'.repeat(2000));
    const err = await readBundleAppSpec(path.join(dir, 'junk.tgz'), 'tgz').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(BundleLimitError);
  });
});

describe('eventTimeouts', () => {
  it('sums script timeouts per hook of this revision; leaves events it cannot bound the hour (worked example)', () => {
    expect(eventTimeouts(APPSPEC, EVENTS)).toEqual({
      default: 3600,
      BeforeInstall: 3600, // a script without a timeout gets the AppSpec default
      AfterInstall: 150,
      ApplicationStart: NOOP_EVENT_SECONDS,
      ValidateService: NOOP_EVENT_SECONDS,
    });
  });

  it('gives every event the hour when the AppSpec is missing or invalid (the agent reports why)', () => {
    expect(eventTimeouts(undefined, EVENTS)).toEqual({ default: 3600 });
    expect(eventTimeouts('version: 9.9\n', EVENTS)).toEqual({ default: 3600 });
  });
});
