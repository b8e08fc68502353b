/**
 * The Range header of a GetObject or HeadObject, as S3 reads it: one byte range, or the whole object
 * when the header is absent or not a single well-formed byte range (RFC 9110 says to ignore those).
 */

/** RangeSelection is what to send: all of it, bytes `start`..`end` (inclusive), or a 416. */
export type RangeSelection =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

/**
 * selectRange interprets `header` for an object of `size` bytes. Worked examples for size 100:
 * `bytes=0-9` → 0..9; `bytes=90-` → 90..99; `bytes=-10` → 90..99; `bytes=50-500` → 50..99;
 * `bytes=100-` → unsatisfiable; `bytes=5-1`, `bytes=0-1,5-6` and `items=0-1` → full.
 */
export function selectRange(header: string | undefined, size: number): RangeSelection {
  if (header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return { kind: 'full' };
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
