/**
 * `--output text|json` of the read commands. Text is for people (aligned columns, one line per
 * item); JSON is for scripts: one document per run, the API's own field names, times as ISO 8601.
 */
import { Option } from 'commander';

/** OUTPUT_FORMATS are the values `--output` takes. */
export const OUTPUT_FORMATS = ['text', 'json'] as const;

/** OutputFormat is one of {@link OUTPUT_FORMATS}. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** outputOption is the `-o, --output` option every read command adds; commander refuses other values in one ERROR line. */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'text for people, json for scripts').choices(OUTPUT_FORMATS).default('text');
}

/** jsonDocument is `value` as the one JSON document a read command prints (the SDK's Dates become ISO strings). */
export function jsonDocument(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key === '$metadata' ? undefined : v), 2);
}

/** isoTime is a time to the second, `2026-01-02T03:04:05Z`, or `-` when there is none. */
export function isoTime(date: Date | undefined): string {
  return date === undefined ? '-' : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
