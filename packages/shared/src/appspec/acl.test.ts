import { describe, it, expect } from 'vitest';
import { formatAclEntry, normaliseAclEntry, parseAclEntry } from './acl.js';

describe('normaliseAclEntry', () => {
  it.each([
    ['u:bob:rw', 'user:bob:rw-'],
    ['d:g:dev:4', 'default:group:dev:r--'],
    ['bob:rw', 'user:bob:rw-'],
    ['user:bob:7', 'user:bob:rwx'],
    ['g:dev:0', 'group:dev:---'],
    ['group:dev:x-r', 'group:dev:r-x'],
    ['m::rx', 'mask::r-x'],
    ['mask:rwx', 'mask::rwx'],
    ['m:r', 'mask::r--'],
    ['default:user:bob:rw', 'default:user:bob:rw-'],
    ['d:bob:rw', 'default:user:bob:rw-'],
    ['d:u::rwx', 'default:user::rwx'],
    ['d:o:r', 'default:other::r--'],
    ['default:other:5', 'default:other::r-x'],
    ['d:m:rwx', 'default:mask::rwx'],
    ['u:mask:rw', 'user:mask:rw-'],
    ['g:other:r', 'group:other:r--'],
    ['g:rw', 'user:g:rw-'],
    ['bob:', 'user:bob:---'],
  ])('AP-14: %s → %s', (ace, normalised) => {
    expect(normaliseAclEntry(ace)).toEqual({ ok: true, value: normalised });
  });

  it.each([
    '7',
    'a:b:c:d:e',
    'x:bob:rw',
    'd:default:bob:rw',
    'default:d:bob:rw',
    'q:u:bob:rw',
    'mask:name:rwx',
    'o:bob:r',
    'other:bob:r',
    'd:m:name:rwx',
  ])('AP-14: %s is an Invalid acl entry', (ace) => {
    expect(normaliseAclEntry(ace)).toEqual({ ok: false, problem: `Invalid acl entry (${ace})` });
  });

  it.each(['u::7', 'g::r', 'o:r', 'other:rw', ':rw', 'user::rwx'])('AP-14: %s must use mode to set the base acl entry', (ace) => {
    expect(normaliseAclEntry(ace)).toEqual({ ok: false, problem: `Use mode to set the base acl entry (${ace})` });
  });

  it.each([
    ['user:bob:rwxd', 'd'],
    ['u:bob:8', '8'],
    ['u:bob:77', '7'],
    ['u:bob:R', 'R'],
  ])('AP-14: %s contains an invalid character %s', (ace, c) => {
    expect(normaliseAclEntry(ace)).toEqual({ ok: false, problem: `invalid character ${c} in ${ace} (the acl entry contains an invalid character)` });
  });
});

describe('parseAclEntry / formatAclEntry', () => {
  it('gives the structured entry and formats it back', () => {
    const parsed = parseAclEntry('d:g:dev:6');
    expect(parsed).toEqual({ ok: true, value: { default: true, type: 'group', name: 'dev', read: true, write: true, execute: false } });
    if (parsed.ok) expect(formatAclEntry(parsed.value)).toBe('default:group:dev:rw-');
  });
});
