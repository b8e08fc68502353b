/**
 * The `--tag` flags, read once into CodeDeploy's shapes. A deployment group's filter is
 * `KEY=VALUE` (KEY_AND_VALUE), `KEY` (KEY_ONLY: any value) or `=VALUE` (VALUE_ONLY: any key); an
 * on-premises instance's tag is always `KEY=VALUE`. Keys and values are checked against CodeDeploy's
 * lengths here, so a mistake is reported before anything is created.
 */
import type { Tag, TagFilter } from '@aws-sdk/client-codedeploy';
import { CliError, CliErrorCode } from '../cli-error.js';

/** MAX_TAG_KEY and MAX_TAG_VALUE are CodeDeploy's tag key and value lengths. */
export const MAX_TAG_KEY = 128;
export const MAX_TAG_VALUE = 256;

/** parseTagFilter reads one `--tag` of `group create`, e.g. `role=web`, `canary`, `=blue`. */
export function parseTagFilter(text: string): TagFilter {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? '' : text.slice(eq + 1);
  if (key === '' && value === '') throw badTag(text, 'give KEY=VALUE, KEY (any value) or =VALUE (any key)');
  if (eq >= 0 && value === '') throw badTag(text, `the value is empty: give ${key}=VALUE, or ${key} alone to match any value`);
  checkLengths(text, key, value);
  if (key === '') return { Value: value, Type: 'VALUE_ONLY' };
  if (eq < 0) return { Key: key, Type: 'KEY_ONLY' };
  return { Key: key, Value: value, Type: 'KEY_AND_VALUE' };
}

/** parseInstanceTag reads one `--tag KEY=VALUE` of `instance register`. */
export function parseInstanceTag(text: string): Required<Pick<Tag, 'Key' | 'Value'>> {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw badTag(text, 'an instance tag is KEY=VALUE, both non-empty, e.g. role=web');
  const key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  checkLengths(text, key, value);
  return { Key: key, Value: value };
}

/** formatTagFilter is a filter as its flag is written: `role=web`, `canary`, `=blue`. */
export function formatTagFilter(filter: TagFilter): string {
  if (filter.Type === 'KEY_ONLY') return filter.Key ?? '';
  if (filter.Type === 'VALUE_ONLY') return `=${filter.Value ?? ''}`;
  return `${filter.Key ?? ''}=${filter.Value ?? ''}`;
}

function checkLengths(text: string, key: string, value: string): void {
  if (key.length > MAX_TAG_KEY) throw badTag(text, `the key is ${key.length} characters long; at most ${MAX_TAG_KEY} are allowed`);
  if (value.length > MAX_TAG_VALUE) throw badTag(text, `the value is ${value.length} characters long; at most ${MAX_TAG_VALUE} are allowed`);
}

function badTag(text: string, why: string): CliError {
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return new CliError(CliErrorCode.USAGE, `--tag ${JSON.stringify(shown)}: ${why}`);
}
