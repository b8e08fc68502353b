import { describe, expect, it } from 'vitest';
import { formatTagFilter, parseInstanceTag, parseTagFilter } from './tags.js';

describe('parseTagFilter', () => {
  it('reads the three filter forms and keeps = inside a value', () => {
    expect(parseTagFilter('role=web')).toEqual({ Key: 'role', Value: 'web', Type: 'KEY_AND_VALUE' });
    expect(parseTagFilter('canary')).toEqual({ Key: 'canary', Type: 'KEY_ONLY' });
    expect(parseTagFilter('=blue')).toEqual({ Value: 'blue', Type: 'VALUE_ONLY' });
    expect(parseTagFilter('q=a=b')).toEqual({ Key: 'q', Value: 'a=b', Type: 'KEY_AND_VALUE' });
  });

  it('names the flag, the value and what to write instead', () => {
    expect(() => parseTagFilter('')).toThrow('--tag "": give KEY=VALUE, KEY (any value) or =VALUE (any key)');
    expect(() => parseTagFilter('=')).toThrow('--tag "=": give KEY=VALUE');
    expect(() => parseTagFilter('role=')).toThrow('--tag "role=": the value is empty: give role=VALUE, or role alone to match any value');
    expect(() => parseTagFilter(`${'k'.repeat(129)}=v`)).toThrow(/the key is 129 characters long; at most 128/);
    expect(() => parseTagFilter(`k=${'v'.repeat(257)}`)).toThrow(/--tag "k=v{55}\.\.\.": the value is 257 characters long; at most 256/);
  });

  it('is written back as its flag', () => {
    for (const flag of ['role=web', 'canary', '=blue']) expect(formatTagFilter(parseTagFilter(flag))).toBe(flag);
  });
});

describe('parseInstanceTag', () => {
  it('reads KEY=VALUE', () => {
    expect(parseInstanceTag('role=web')).toEqual({ Key: 'role', Value: 'web' });
  });

  it('refuses a tag without a key or a value', () => {
    for (const bad of ['role', 'role=', '=web', '']) expect(() => parseInstanceTag(bad)).toThrow(`--tag ${JSON.stringify(bad)}: an instance tag is KEY=VALUE, both non-empty`);
  });
});
