import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultBundleLimits, unpackBundle } from './unpack.js';
import type { BundleLimits, UnpackOptions, UnpackResult } from './unpack.js';
import type { ZipInflating } from './zip-unpack.js';
import { describeTree, listTree, makeSourceTree, makeWorkspace, modeOf, python, sh, writeBundle, expectRefused as expectRefusedIn } from './test-support.js';
import type { Workspace } from './test-support.js';
import { itWithTools } from '../../../../test/harness/system-tools.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

interface PyEntry {
  name: string;
  data?: string;
  /** Repeat `data` this many times (big entries without passing them on the command line). */
  repeat?: number;
  /** Unix mode including the file type bits, stored in external_attr >> 16. */
  mode?: number;
  /** create_system: 3 Unix (default), 0 MS-DOS. */
  system?: number;
  /** 0 stored, 8 deflated (default), 12 bzip2. */
  method?: number;
}

/**
 * pyZip writes a zip with python's zipfile, which stores any name and mode it is given. `patch`
 * is python run afterwards with the archive bytes in `b` (a bytearray) to corrupt or falsify it.
 */
async function pyZip(entries: PyEntry[], patch = ''): Promise<string> {
  const path = ws.path('bundle.zip');
  const script = `
import json, sys, zipfile
entries = json.loads(sys.argv[2])
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for e in entries:
        zi = zipfile.ZipInfo(e['name'], date_time=(2024, 3, 1, 12, 0, 0))
        zi.create_system = e.get('system', 3)
        if 'mode' in e:
            zi.external_attr = e['mode'] << 16
        zi.compress_type = e.get('method', 8)
        z.writestr(zi, e.get('data', '').encode() * e.get('repeat', 1))
b = bytearray(open(sys.argv[1], 'rb').read())
${patch}
open(sys.argv[1], 'wb').write(b)
`;
  python(script, path, JSON.stringify(entries));
  return path;
}

/**
 * Every test runs twice: with the default inflating (these small zips are inflated in this thread)
 * and with every small entry inflated in the inflating thread (zip-inflater.ts).
 */
let inflating: ZipInflating = 'auto';

function expectRefused(bundle: string, message: RegExp, limits?: BundleLimits): Promise<void> {
  return expectRefusedIn(ws, bundle, 'zip', message, limits, inflating);
}

/** unpack is unpackBundle with the inflating of the test run. */
function unpack(opts: UnpackOptions): Promise<UnpackResult> {
  return unpackBundle({ ...opts, zipInflating: inflating });
}

describe.each<ZipInflating>(['auto', 'thread'])('zip bundles, inflating %s', (mode) => {
  beforeEach(() => {
    inflating = mode;
  });

  describe('zip round trip', () => {
    itWithTools(['zip'], 'zip -r -y keeps content, modes, links, empty and nested folders and mtimes', async () => {
      const src = ws.path('src');
      await mkdir(src);
      await makeSourceTree(src, { setuid: false, hardLink: true });
      sh('zip', ['-q', '-r', '-y', ws.path('bundle.zip'), '.'], src);

      const result = await unpack({ bundlePath: ws.path('bundle.zip'), bundleType: 'zip', targetDir: ws.target });

      expect(await describeTree(ws.target, { mtimes: true })).toEqual(await describeTree(src, { mtimes: true }));
      expect(await modeOf(join(ws.target, 'bin/group.sh'))).toBe(0o775);
      expect(await modeOf(join(ws.target, 'empty'))).toBe(0o700);
      expect(await readFile(join(ws.target, 'node_modules/.bin/foo'), 'utf8')).toBe('cli\n');
      expect(result.entries).toBe((await listTree(src)).length);
    });

    it('drops setuid and setgid bits, as unzip does without -K', async () => {
      const bundle = await pyZip([{ name: 'suid', data: 'x', mode: 0o106755 }, { name: 'sticky/', mode: 0o41777 }]);
      await unpack({ bundlePath: bundle, bundleType: 'zip', targetDir: ws.target });
      expect(await modeOf(join(ws.target, 'suid'))).toBe(0o755);
      expect(await modeOf(join(ws.target, 'sticky'))).toBe(0o1777);
    });

    it('gives 0644 files and 0755 folders when the zip carries no Unix modes (adm-zip, Windows tools)', async () => {
      const zip = new AdmZip();
      zip.addFile('app/', Buffer.alloc(0));
      zip.addFile('app/run.sh', Buffer.from('#!/bin/sh\n'));
      zip.addFile('top.txt', Buffer.from('top'));
      zip.writeZip(ws.path('bundle.zip'));
      expect(await unpack({ bundlePath: ws.path('bundle.zip'), bundleType: 'zip', targetDir: ws.target })).toEqual({ entries: 3, bytes: 13 });
      expect(await describeTree(ws.target, { mtimes: false })).toEqual({
        'app/': { kind: 'dir', mode: 0o755 },
        'app/run.sh': { kind: 'file', mode: 0o644, content: '#!/bin/sh\n' },
        'top.txt': { kind: 'file', mode: 0o644, content: 'top' },
      });
    });

    it('reads backslashes in names written on Windows as separators', async () => {
      const bundle = await pyZip([{ name: 'dir\\sub\\file.txt', data: 'win', system: 0 }]);
      await unpack({ bundlePath: bundle, bundleType: 'zip', targetDir: ws.target });
      expect(await readFile(join(ws.target, 'dir/sub/file.txt'), 'utf8')).toBe('win');
    });

    it('re-creates symbolic links stored by python, and stored (uncompressed) entries', async () => {
      const bundle = await pyZip([
        { name: 'real.txt', data: 'real', method: 0 },
        { name: 'alias', data: 'real.txt', mode: 0o120777 },
      ]);
      await unpack({ bundlePath: bundle, bundleType: 'zip', targetDir: ws.target });
      expect(await readFile(join(ws.target, 'alias'), 'utf8')).toBe('real');
    });

    it('keeps the later of two file entries of the same name, as unzip does', async () => {
      const bundle = await pyZip([
        { name: 'same.txt', data: 'earlier' },
        { name: 'other.txt', data: 'x' },
        { name: 'same.txt', data: 'later' },
      ]);
      await unpack({ bundlePath: bundle, bundleType: 'zip', targetDir: ws.target });
      expect(await readFile(join(ws.target, 'same.txt'), 'utf8')).toBe('later');
    });
  });

  describe('zip entries larger than the in-memory threshold are streamed', () => {
    const noRatio = { ...defaultBundleLimits, maxCompressionRatio: 1e9 };
    const big = 3 * 1024 * 1024;

    it('writes a large deflated entry and a large stored one', async () => {
      const bundle = await pyZip([
        { name: 'big.txt', data: '0123456789abcdef', repeat: big / 16 },
        { name: 'stored.bin', data: 'xyz', repeat: 500_000, method: 0 },
      ]);
      await unpack({ bundlePath: bundle, bundleType: 'zip', targetDir: ws.target, limits: noRatio });
      expect((await readFile(join(ws.target, 'big.txt'), 'utf8')).slice(0, 20)).toBe('0123456789abcdef0123');
      expect((await readFile(join(ws.target, 'big.txt'))).length).toBe(big);
      expect((await readFile(join(ws.target, 'stored.bin'))).length).toBe(1_500_000);
    });

    it('stops a streamed entry whose data is larger than its declared size', async () => {
      const patch = `
import struct
for sig, off, name_at in ((b'PK\\x03\\x04', 22, 30), (b'PK\\x01\\x02', 24, 46)):
    at = b.find(sig)
    while at >= 0:
        if b[at + name_at:at + name_at + 7] == b'lie.bin':
            struct.pack_into('<I', b, at + off, 2 * 1024 * 1024)
        at = b.find(sig, at + 4)
`;
      const bundle = await pyZip([{ name: 'lie.bin', data: 'z', repeat: big }], patch);
      await expectRefused(bundle, /^bundle entry "lie\.bin": data is larger than its declared size of 2097152 bytes$/, noRatio);
    });

    it('rejects a streamed entry shorter than declared, or with a wrong CRC-32', async () => {
      const short = `
import struct
for sig, off in ((b'PK\\x03\\x04', 22), (b'PK\\x01\\x02', 24)):
    struct.pack_into('<I', b, b.find(sig) + off, ${big + 10})
`;
      await expectRefused(await pyZip([{ name: 'short.bin', data: 'q', repeat: big }], short), /^bundle\.zip is not a valid zip archive: entry "short\.bin" has 3145728 bytes, 3145738 declared$/, noRatio);
      const flip = `
at = b.find(b'qqqq')
b[at + 1000] = ord('r')
`;
      await expectRefused(await pyZip([{ name: 'crc.bin', data: 'q', repeat: big, method: 0 }], flip), /^bundle\.zip is not a valid zip archive: entry "crc\.bin" does not match its CRC-32$/, noRatio);
    });

    it('rejects corrupt deflate data in a streamed entry', async () => {
      const patch = `
import struct
n, m = struct.unpack_from('<HH', b, 26)
b[30 + n + m] = 0x07  # first deflate block: final, type 3 (reserved, invalid)
`;
      const bundle = await pyZip([{ name: 'bad.bin', data: '0123456789', repeat: Math.ceil(big / 10) }], patch);
      await expectRefused(bundle, /^bundle\.zip is not a valid zip archive: entry "bad\.bin": invalid block type$/, noRatio);
    });
  });

  describe('zip entries that would land outside the bundle are refused before anything is written', () => {
    it('refuses ../../escaped.txt (zip slip)', async () => {
      const bundle = await pyZip([{ name: 'ok.txt', data: 'fine' }, { name: '../../escaped.txt', data: 'pwned' }]);
      await expectRefused(bundle, /^bundle entry "\.\.\/\.\.\/escaped\.txt": path leaves the bundle folder$/);
    });

    it('refuses an absolute path', async () => {
      const bundle = await pyZip([{ name: join(ws.outside, 'abs.txt'), data: 'pwned' }]);
      await expectRefused(bundle, /path is absolute/);
    });

    it('refuses backslash tricks and drive letters', async () => {
      await expectRefused(await pyZip([{ name: '..\\..\\escaped.txt', data: 'x', system: 0 }]), /"\.\.\\\\\.\.\\\\escaped\.txt": path leaves the bundle folder/);
      await expectRefused(await pyZip([{ name: 'C:\\Windows\\evil.txt', data: 'x', system: 0 }]), /path starts with a drive letter/);
      await expectRefused(await pyZip([{ name: '\\evil.txt', data: 'x', system: 0 }]), /path is absolute/);
    });

    it('refuses a symbolic link that points outside, and a file written through it', async () => {
      await expectRefused(await pyZip([{ name: 'evil', data: '../../../outside', mode: 0o120777 }]), /^bundle entry "evil": symbolic link target "\.\.\/\.\.\/\.\.\/outside" points outside the bundle folder$/);
      await expectRefused(
        await pyZip([
          { name: 'evil', data: '../../../outside', mode: 0o120777 },
          { name: 'evil/pwned.txt', data: 'pwned' },
        ]),
        /"evil\/pwned\.txt": path goes through the symbolic link "evil"/,
      );
    });

    it('refuses an absolute symbolic link', async () => {
      await expectRefused(await pyZip([{ name: 'passwd', data: '/etc/passwd', mode: 0o120777 }]), /"passwd": symbolic link target "\/etc\/passwd" is absolute/);
    });

    it('refuses a symbolic link whose stored target is too long to be one', async () => {
      await expectRefused(await pyZip([{ name: 'long', data: 'a/', repeat: 3000, mode: 0o120777 }]), /"long": symbolic link target is longer than 4095 bytes/);
    });

    it('refuses FIFO and device entries', async () => {
      await expectRefused(await pyZip([{ name: 'pipe', mode: 0o10644 }]), /"pipe": FIFO entries are not allowed in a bundle/);
      await expectRefused(await pyZip([{ name: 'null', mode: 0o20644 }]), /"null": CharacterDevice entries are not allowed in a bundle/);
      await expectRefused(await pyZip([{ name: 'sock', mode: 0o140644 }]), /"sock": unsupported entry type unix file type 0o140000/);
    });
  });

  describe('zip bundle limits', () => {
    it('refuses more entries than bundle.maxEntries from the central directory alone', async () => {
      const bundle = await pyZip(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: 'x' })));
      await expectRefused(bundle, /^bundle has 5 entries, more than the limit of 3 \(bundle\.maxEntries\)$/, { ...defaultBundleLimits, maxEntries: 3 });
    });

    it('refuses more content than bundle.maxTotalBytes', async () => {
      const bundle = await pyZip([{ name: 'a', data: 'x', repeat: 600 }, { name: 'b', data: 'x', repeat: 600 }]);
      await expectRefused(bundle, /^bundle unpacks to at least 1200 bytes, more than the limit of 1000 \(bundle\.maxTotalBytes\)$/, {
        ...defaultBundleLimits,
        maxTotalBytes: 1000,
      });
    });

    it('refuses a zip bomb (50 MB of zeros) by its compression ratio without inflating it', async () => {
      const bundle = await pyZip([{ name: 'zeros.bin', data: '\u0000', repeat: 50 * 1024 * 1024 }]);
      const started = Date.now();
      await expectRefused(bundle, /^bundle expands \d+\.\d times \(52428800 bytes from \d+\), more than the limit of 200 \(bundle\.maxCompressionRatio\)$/);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('stops an entry whose data is larger than its declared size, and removes what was written', async () => {
      // Declare 10 bytes (local header and central directory) for 100 000 bytes of deflated data.
      const patch = `
import struct
for sig, off, name_at in ((b'PK\\x03\\x04', 22, 30), (b'PK\\x01\\x02', 24, 46)):
    at = b.find(sig)
    while at >= 0:
        if b[at + name_at:at + name_at + 7] == b'lie.bin':
            struct.pack_into('<I', b, at + off, 10)
        at = b.find(sig, at + 4)
`;
      const bundle = await pyZip([{ name: 'first.txt', data: 'written first' }, { name: 'lie.bin', data: 'z', repeat: 100_000 }], patch);
      await expectRefused(bundle, /^bundle entry "lie\.bin": data is larger than its declared size of 10 bytes$/);
    });
  });

  describe('corrupt zip bundles', () => {
    it('names the bundle for a file that is not a zip', async () => {
      const bundle = await writeBundle(ws.path('bundle.tar'), Buffer.from('not a zip'.repeat(100)));
      await expectRefused(bundle, /^bundle\.tar is not a valid zip archive: End of central directory record signature not found/);
    });

    it('rejects a truncated zip', async () => {
      const whole = await readFile(await pyZip([{ name: 'a', data: 'abc', repeat: 1000 }, { name: 'b', data: 'def' }]));
      const bundle = await writeBundle(ws.path('bundle.zip'), whole.subarray(0, whole.length - 30));
      await expectRefused(bundle, /^bundle\.zip is not a valid zip archive: /);
    });

    it('rejects corrupt deflate data and removes the partial target folder', async () => {
      const patch = `
at = b.find(b'PK\\x03\\x04', 1)
n = struct.unpack_from('<H', b, at + 26)[0]
start = at + 30 + n
for i in range(start, start + 8):
    b[i] = 0xff
`;
      const bundle = await pyZip([{ name: 'ok.txt', data: 'fine' }, { name: 'bad.txt', data: 'abcdefgh', repeat: 500 }], `import struct\n${patch}`);
      await expectRefused(bundle, /^bundle\.zip is not a valid zip archive: entry "bad\.txt": /);
    });

    it('rejects data that does not match its CRC-32', async () => {
      const patch = `
at = b.find(b'hello world')
b[at] = ord('j')
`;
      const bundle = await pyZip([{ name: 'hello.txt', data: 'hello world', method: 0 }], patch);
      await expectRefused(bundle, /^bundle\.zip is not a valid zip archive: entry "hello\.txt" does not match its CRC-32$/);
    });

    it('reports the first of two corrupt entries in archive order, however the inflating is shared', async () => {
      // 300 stored entries of 20 kB: over the size from which an inflating thread shares the work.
      const entries = Array.from({ length: 300 }, (_, i) => ({ name: `f${String(i).padStart(3, '0')}.txt`, data: 'abcdefghij', repeat: 2000, method: 0 }));
      const patch = `
for name in (b'f250.txt', b'f005.txt'):
    at = b.find(name)
    b[at + len(name) + 10] = ord('x')
`;
      await expectRefused(await pyZip(entries, patch), /^bundle\.zip is not a valid zip archive: entry "f005\.txt" does not match its CRC-32$/);
    });

    it('rejects an entry shorter than its declared size', async () => {
      const patch = `
import struct
for sig, off in ((b'PK\\x03\\x04', 22), (b'PK\\x01\\x02', 24)):
    at = b.find(sig)
    struct.pack_into('<I', b, at + off, 5000)
`;
      const bundle = await pyZip([{ name: 'short.txt', data: 'y', repeat: 100 }], patch);
      await expectRefused(bundle, /^bundle\.zip is not a valid zip archive: entry "short\.txt" has 100 bytes, 5000 declared$/);
    });

    it('rejects a central directory record whose local header is missing', async () => {
      const bundle = await pyZip([{ name: 'a.txt', data: 'abc' }], "b[0:4] = b'XXXX'");
      await expectRefused(bundle, /^bundle\.zip is not a valid zip archive: entry "a\.txt" has no local header at byte 0$/);
    });

    it('rejects an entry whose compressed data would run past the end of the file', async () => {
      const patch = `
import struct
struct.pack_into('<I', b, b.find(b'PK\\x01\\x02') + 20, 900000)
`;
      const bundle = await pyZip([{ name: 'a.txt', data: 'abc' }], patch);
      await expectRefused(bundle, /^bundle\.zip is not a valid zip archive: entry "a\.txt" ends past the end of the file \(byte 900035 of \d+\)$/);
    });

    it('names the bundle when writing fails (a name longer than the file system allows), and removes the target', async () => {
      const bundle = await pyZip([{ name: 'first.txt', data: 'written first' }, { name: `dir/${'n'.repeat(300)}`, data: 'x' }]);
      await expectRefused(bundle, /^could not unpack bundle\.zip: .*ENAMETOOLONG/);
    });

    itWithTools(['zip'], 'refuses encrypted entries', async () => {
      await writeFile(ws.path('secret.txt'), 'secret');
      sh('zip', ['-q', '-P', 'pw', ws.path('bundle.zip'), 'secret.txt'], ws.dir);
      await expectRefused(ws.path('bundle.zip'), /^bundle entry "secret\.txt": entry is encrypted$/);
    });

    it('refuses compression methods other than store and deflate', async () => {
      await expectRefused(await pyZip([{ name: 'b.txt', data: 'bz', method: 12 }]), /^bundle entry "b\.txt": compression method 12 is not supported$/);
    });
  });
});
