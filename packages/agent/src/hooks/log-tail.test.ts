import { describe, expect, it } from 'vitest';
import { LogTail, charLength, lastChars, trimLogTail } from './log-tail.js';

const line = (i: number): string => `[stdout]${String(i).padStart(2, '0').padEnd(100, 'x')}\n`;

describe('trimLogTail (AWS agent algorithm)', () => {
  it('HK-13: 100 entries of 109 characters keep the last 18 (lines 82..99, 1962 characters)', () => {
    const tail = new LogTail();
    for (let i = 0; i < 100; i++) tail.append(line(i));
    expect(tail.list()).toEqual(Array.from({ length: 18 }, (_, k) => line(82 + k)));
    expect(tail.text()).toHaveLength(1962);
  });

  it('gives the same result trimmed once at the end as trimmed after every append', () => {
    const entries = Array.from({ length: 100 }, (_, i) => 'y'.repeat((i * 37) % 400) + '\n');
    const incremental = new LogTail();
    for (const e of entries) incremental.append(e);
    expect(incremental.list()).toEqual(trimLogTail(entries));
  });

  it('counts older entries twice and the newest not at all, stopping at the first rejection', () => {
    // 2·1000 + 0 < 2048 keeps the 1000; then 2·10 + 1000 < 2048 keeps the 10; then 2·600 + 1010 fails.
    const entries = ['a', 'b'.repeat(600), 'c'.repeat(10), 'd'.repeat(1000), 'e'.repeat(2000)];
    expect(trimLogTail(entries)).toEqual(entries.slice(2));
    // The kept total exceeds 2048 by up to the newest entry, as the agent's does.
    expect(trimLogTail(entries).join('').length).toBe(3010);
  });

  it('rejects an older entry exactly at the budget (strictly less than 2048)', () => {
    expect(trimLogTail(['x'.repeat(1024), 'n'])).toEqual(['n']);
    expect(trimLogTail(['x'.repeat(1023), 'n'])).toEqual(['x'.repeat(1023), 'n']);
  });

  it('keeps a newest entry of 2047 characters whole, and short older ones since the newest is not counted', () => {
    expect(trimLogTail(['old\n', 'z'.repeat(2047)])).toEqual(['old\n', 'z'.repeat(2047)]);
    expect(trimLogTail(['x'.repeat(1024), 'z'.repeat(2047)])).toEqual(['z'.repeat(2047)]);
  });

  it('divergence: a newest entry of 2048+ characters keeps its last 2047 instead of emptying the tail (agent: empty)', () => {
    const long = `[stdout]${'a'.repeat(2990)}END\n`;
    const kept = trimLogTail(['before\n', long]);
    expect(kept).toEqual([long.slice(-2047)]);
    expect(kept[0]).toHaveLength(2047);
    expect(kept[0]?.endsWith('END\n')).toBe(true);
  });

  it('empty input gives an empty tail; clear empties it', () => {
    expect(trimLogTail([])).toEqual([]);
    const tail = new LogTail();
    tail.append('x\n');
    tail.clear();
    expect(tail.text()).toBe('');
  });

  it('counts characters as code points, like Ruby, and never splits a surrogate pair', () => {
    expect(charLength('a😀b')).toBe(3);
    expect(lastChars('a😀b', 2)).toBe('😀b');
    expect(lastChars('ab', 5)).toBe('ab');
    const long = '😀'.repeat(3000);
    expect(trimLogTail([long])[0]).toBe('😀'.repeat(2047));
  });
});
