import { describe, expect, it } from 'vitest';
import { classifyZipEntry } from './zip-entry.js';

const unix = (fileName: string, mode: number) => classifyZipEntry({ fileName, versionMadeBy: (3 << 8) | 30, externalFileAttributes: (mode << 16) >>> 0 });
const dos = (fileName: string, attrs = 0) => classifyZipEntry({ fileName, versionMadeBy: 20, externalFileAttributes: attrs });

describe('classifyZipEntry', () => {
  it('reads Unix modes and types from zips made on Unix and macOS', () => {
    expect(unix('run.sh', 0o100775)).toEqual({ kind: 'file', mode: 0o775, typeName: 'file' });
    expect(unix('d/', 0o40700)).toEqual({ kind: 'dir', mode: 0o700, typeName: 'folder' });
    expect(unix('d', 0o40755)).toMatchObject({ kind: 'dir' });
    expect(unix('l', 0o120777)).toMatchObject({ kind: 'symlink' });
    expect(classifyZipEntry({ fileName: 'm', versionMadeBy: 19 << 8, externalFileAttributes: (0o100600 << 16) >>> 0 })).toMatchObject({ kind: 'file', mode: 0o600 });
  });

  it('drops setuid and setgid but keeps the sticky bit', () => {
    expect(unix('s', 0o106755).mode).toBe(0o755);
    expect(unix('t/', 0o41777).mode).toBe(0o1777);
  });

  it('treats permission bits without a type as a file', () => {
    expect(unix('f', 0o644)).toEqual({ kind: 'file', mode: 0o644, typeName: 'file' });
  });

  it('recognises devices, FIFOs and other types', () => {
    expect(unix('p', 0o10644)).toMatchObject({ kind: 'device', typeName: 'FIFO' });
    expect(unix('c', 0o20644)).toMatchObject({ kind: 'device', typeName: 'CharacterDevice' });
    expect(unix('b', 0o60644)).toMatchObject({ kind: 'device', typeName: 'BlockDevice' });
    expect(unix('s', 0o140644)).toMatchObject({ kind: 'unsupported' });
  });

  it('defaults to 0644 files and 0755 folders without Unix modes', () => {
    expect(dos('a.txt')).toEqual({ kind: 'file', mode: 0o644, typeName: 'file' });
    expect(dos('d/')).toEqual({ kind: 'dir', mode: 0o755, typeName: 'folder' });
    expect(dos('d\\')).toMatchObject({ kind: 'dir' });
    expect(dos('d', 0x10)).toMatchObject({ kind: 'dir', mode: 0o755 });
    expect(unix('zero', 0)).toEqual({ kind: 'file', mode: 0o644, typeName: 'file' });
  });
});
