import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

describe('LineSplitter', () => {
  it('delivers lines with their newline across chunk boundaries, then an unterminated last line', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push(Buffer.from('a\nb'));
    s.push(Buffer.from('c\n\nd'));
    s.end();
    expect(lines).toEqual(['a\n', 'bc\n', '\n', 'd']);
  });

  it('does not mangle a multi-byte character split between chunks', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const bytes = Buffer.from('é\n');
    s.push(bytes.subarray(0, 1));
    s.push(bytes.subarray(1));
    s.end();
    expect(lines).toEqual(['é\n']);
  });
});
