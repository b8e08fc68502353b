/**
 * The SELinux MLS range grammar of a permissions entry's `context.range`:
 * `s<low>[-s<high>][:c<a>[.c<b>][,c...]]`, with categories 0–1023 and no category given twice.
 */
import type { Checked } from './values.js';

/** SelinuxRange is a parsed range: sensitivities and the sorted, distinct category numbers (if any). */
export interface SelinuxRange {
  low: number;
  high: number;
  categories?: number[];
}

const MAX_CATEGORY = 1023;

// The helpers below return their result or the first problem found.
type Step<T> = T | { problem: string };

function isProblem<T>(v: Step<T>): v is { problem: string } {
  return typeof v === 'object' && v !== null && 'problem' in v;
}

/** Splits on the first `sep` (if present); both halves, or the whole input, must be non-empty. */
function splitOnce(input: string, sep: string): Step<string[]> {
  const i = input.indexOf(sep);
  const parts = i < 0 ? [input] : [input.slice(0, i), input.slice(i + sep.length)];
  if (parts.some((p) => p === '')) return { problem: `invalid range part ${input === '' ? '(empty)' : input}` };
  return parts;
}

function levelNumber(text: string, prefix: 's' | 'c'): number | undefined {
  return text.length >= 2 && text.startsWith(prefix) && /^[0-9]+$/.test(text.slice(1)) ? Number(text.slice(1)) : undefined;
}

function category(text: string): Step<number> {
  const n = levelNumber(text, 'c');
  if (n === undefined || n > MAX_CATEGORY) return { problem: `invalid category ${text === '' ? '(empty)' : text}` };
  return n;
}

function categories(list: string): Step<number[]> {
  const out: number[] = [];
  for (const part of list.split(',')) {
    if (part.includes('.')) {
      const ends = splitOnce(part, '.');
      if (isProblem(ends)) return ends;
      const low = category(ends[0] ?? '');
      if (isProblem(low)) return low;
      const high = category(ends[1] ?? '');
      if (isProblem(high)) return high;
      if (high < low) return { problem: `invalid category range ${part}` };
      for (let c = low; c <= high; c++) out.push(c);
    } else {
      const c = category(part);
      if (isProblem(c)) return c;
      out.push(c);
    }
  }
  out.sort((a, b) => a - b);
  if (out.some((c, i) => i > 0 && out[i - 1] === c)) return { problem: 'duplicate categories' };
  return out;
}

/**
 * parseSelinuxRange validates a range. Problems use the agent's short wording (`invalid range part s3-`,
 * `invalid sensitivity s`, `invalid category c1024`, `duplicate categories`).
 */
export function parseSelinuxRange(range: string): Checked<SelinuxRange> {
  const parts = splitOnce(range, ':');
  if (isProblem(parts)) return { ok: false, problem: parts.problem };
  const levels = splitOnce(parts[0] ?? '', '-');
  if (isProblem(levels)) return { ok: false, problem: levels.problem };
  const sensitivities: number[] = [];
  for (const level of levels) {
    const n = levelNumber(level, 's');
    if (n === undefined) return { ok: false, problem: `invalid sensitivity ${level}` };
    sensitivities.push(n);
  }
  const low = sensitivities[0] ?? 0;
  const high = sensitivities[1] ?? low;
  if (high < low) return { ok: false, problem: `high sensitivity s${high} is below low sensitivity s${low}` };
  if (parts[1] === undefined) return { ok: true, value: { low, high } };
  const cats = categories(parts[1]);
  if (isProblem(cats)) return { ok: false, problem: cats.problem };
  return { ok: true, value: { low, high, categories: cats } };
}

/** formatSelinuxRange renders a range with runs of consecutive categories collapsed (`c0,c1,c2` → `c0.c2`). */
export function formatSelinuxRange(r: SelinuxRange): string {
  let out = `s${r.low}${r.high !== r.low ? `-s${r.high}` : ''}`;
  if (r.categories === undefined) return out;
  const runs: string[] = [];
  const cats = r.categories;
  for (let i = 0; i < cats.length; ) {
    const start = cats[i] ?? 0;
    let end = start;
    while (cats[i + 1] === end + 1) {
      end++;
      i++;
    }
    i++;
    runs.push(start === end ? `c${start}` : `c${start}.c${end}`);
  }
  out += `:${runs.join(',')}`;
  return out;
}

/** normaliseSelinuxRange validates a range and returns its normalised text (`s0:c0,c1,c2,c5` → `s0:c0.c2,c5`). */
export function normaliseSelinuxRange(range: string): Checked<string> {
  const parsed = parseSelinuxRange(range);
  return parsed.ok ? { ok: true, value: formatSelinuxRange(parsed.value) } : parsed;
}
