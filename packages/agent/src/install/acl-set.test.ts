import { describe, expect, it } from 'vitest';
import { fullAcl } from './acl-set.js';

describe('fullAcl', () => {
  it('adds the base entries from the mode and nothing else without named entries', () => {
    expect(fullAcl([], 0o640)).toEqual(['user::rw-', 'group::r--', 'other::---']);
  });

  it('sets the mask to the mode\'s group bits when a named entry is listed without a mask, as the AWS agent does', () => {
    expect(fullAcl(['user:bob:rwx'], 0o640)).toEqual(['user:bob:rwx', 'user::rw-', 'group::r--', 'other::---', 'mask::r--']);
  });

  it('keeps a mask the AppSpec lists', () => {
    expect(fullAcl(['group:dev:rw-', 'mask::rwx'], 0o600)).toEqual(['group:dev:rw-', 'mask::rwx', 'user::rw-', 'group::---', 'other::---']);
  });

  it('completes default entries and derives the default mask from the default group entry', () => {
    expect(fullAcl(['user:bob:rwx', 'default:user:bob:rwx'], 0o750)).toEqual([
      'user:bob:rwx', 'default:user:bob:rwx',
      'user::rwx', 'group::r-x', 'other::---', 'mask::r-x',
      'default:user::rwx', 'default:group::r-x', 'default:other::---', 'default:mask::r-x',
    ]);
    expect(fullAcl(['default:group::rw-', 'default:group:dev:rwx'], 0o700)).toEqual([
      'default:group::rw-', 'default:group:dev:rwx',
      'user::rwx', 'group::---', 'other::---',
      'default:user::rwx', 'default:other::---', 'default:mask::rw-',
    ]);
  });

  it('adds no default mask when only default base entries are listed', () => {
    expect(fullAcl(['default:other::r--'], 0o755)).toEqual(['default:other::r--', 'user::rwx', 'group::r-x', 'other::r-x', 'default:user::rwx', 'default:group::r-x']);
  });
});
