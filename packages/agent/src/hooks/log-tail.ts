/**
 * The diagnostics log tail: the newest script-log messages of a lifecycle event, about 2 KiB of them,
 * which a failed event reports as its `logTail`. The trimming rule is the AWS agent's, including its
 * odd arithmetic, because operators compare our tails with the ones the agent produced.
 */

/** LOG_TAIL_BUDGET is the agent's character budget for the diagnostics log tail. */
export const LOG_TAIL_BUDGET = 2048;

/**
 * trimLogTail returns the entries (oldest first) that survive the AWS agent's trimming rule:
 * the newest entry eₙ stays only if it is shorter than 2048 characters; walking backwards, an older
 * entry eᵢ stays only if `2·len(eᵢ) + len(eᵢ₊₁ … eₙ₋₁) < 2048`, and the walk stops at the first entry
 * that does not. The agent counts eᵢ twice and never eₙ, so its tail can exceed 2048 characters.
 *
 * Divergence (deliberate): where the agent empties the whole tail when the newest entry alone is
 * 2048 characters or longer, we keep that entry's last 2047 characters, so a failure caused by one
 * long line still shows the end of that line.
 *
 * Applying it after every append gives the same result as applying it once at the end, since the
 * conditions only get stricter as entries are added.
 */
export function trimLogTail(entries: readonly string[]): string[] {
  const newest = entries[entries.length - 1];
  if (newest === undefined) return [];
  const newestLength = charLength(newest);
  if (newestLength >= LOG_TAIL_BUDGET) return [lastChars(newest, LOG_TAIL_BUDGET - 1)];

  // `between` is len(eᵢ₊₁ … eₙ₋₁): what lies between the candidate and the newest entry.
  let start = entries.length - 1;
  let between = 0;
  for (let i = entries.length - 2; i >= 0; i--) {
    const length = charLength(entries[i] ?? '');
    if (2 * length + between >= LOG_TAIL_BUDGET) break;
    start = i;
    between += length;
  }
  return entries.slice(start);
}

/**
 * LogTail keeps the diagnostics tail of one lifecycle event as messages arrive, trimmed with
 * {@link trimLogTail} after every append so memory stays bounded however much a script prints.
 */
export class LogTail {
  private entries: string[] = [];

  /** append adds the newest message and trims the tail. */
  append(message: string): void {
    this.entries.push(message);
    this.entries = trimLogTail(this.entries);
  }

  /** clear forgets everything, as the agent does when a new lifecycle event starts. */
  clear(): void {
    this.entries = [];
  }

  /** text is the tail as reported: the kept entries concatenated, oldest first. */
  text(): string {
    return this.entries.join('');
  }

  /** list returns a copy of the kept entries, oldest first. */
  list(): string[] {
    return [...this.entries];
  }
}

/**
 * charLength counts Unicode code points, as Ruby's String#length does for UTF-8 text, rather than
 * UTF-16 code units, so characters outside the BMP count once like they do in the agent.
 */
export function charLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A low surrogate that follows a high surrogate is the second half of one character.
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const prev = s.charCodeAt(i - 1);
      if (prev >= 0xd800 && prev <= 0xdbff) continue;
    }
    n++;
  }
  return n;
}

/** lastChars returns the last `count` code points of `s` without splitting a surrogate pair. */
export function lastChars(s: string, count: number): string {
  let kept = 0;
  let i = s.length;
  while (i > 0 && kept < count) {
    i--;
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const prev = s.charCodeAt(i - 1);
      if (prev >= 0xd800 && prev <= 0xdbff) i--;
    }
    kept++;
  }
  return s.slice(i);
}
