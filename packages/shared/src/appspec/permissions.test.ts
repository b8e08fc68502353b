import { describe, it, expect } from 'vitest';
import { AppSpecError, parseAppSpec, type AppSpecIssue } from './parse.js';
import { normaliseMode, parsePermissions } from './permissions.js';
import type { Permission } from './types.js';

/** Parses a Linux AppSpec whose permissions section is the given YAML. */
function permissions(yamlList: string): Permission[] {
  return parseAppSpec(`version: 0.0\nos: linux\npermissions:\n${yamlList}`, { platform: 'linux' }).permissions;
}

function issuesOf(yamlList: string): AppSpecIssue[] {
  try {
    permissions(yamlList);
  } catch (err) {
    if (err instanceof AppSpecError) return err.issues;
    throw err;
  }
  throw new Error('expected an AppSpecError');
}

function oneIssue(yamlList: string): AppSpecIssue {
  const issues = issuesOf(yamlList);
  expect(issues).toHaveLength(1);
  return issues[0]!;
}

describe('permissions entries', () => {
  it('fills in the defaults: pattern **, no except, both types', () => {
    expect(permissions('  - object: /srv/app\n')).toEqual([{ object: '/srv/app', pattern: '**', except: [], types: ['file', 'directory'] }]);
  });

  it('normalises every field of a full entry', () => {
    const yaml = [
      '  - object: "  /srv/app  "',
      '    pattern: "*.txt"',
      '    except: [secret.txt, "*.key"]',
      '    owner: www-data',
      '    group: www',
      '    mode: 4755',
      '    acls:',
      '      - u:bob:rw',
      '      - d:g:dev:4',
      '      - m::rx',
      '    context:',
      '      name: system_u',
      '      type: httpd_sys_content_t',
      '      range: s0:c0,c1,c2,c5',
      '    type:',
      '      - directory',
      '      - directory',
    ].join('\n');
    expect(permissions(`${yaml}\n`)).toEqual([
      {
        object: '/srv/app',
        pattern: '*.txt',
        except: ['secret.txt', '*.key'],
        types: ['directory'],
        owner: 'www-data',
        group: 'www',
        mode: '4755',
        acls: ['user:bob:rw-', 'default:group:dev:r--', 'mask::r-x'],
        context: { name: 'system_u', type: 'httpd_sys_content_t', range: 's0:c0.c2,c5' },
      },
    ]);
  });

  it('allows a context without a range (divergence: the agent crashes later while serialising it)', () => {
    expect(permissions('  - object: /srv\n    context: {type: httpd_sys_content_t}\n')[0]?.context).toEqual({ type: 'httpd_sys_content_t' });
  });

  it('ignores the documented context key `user`, as the agent reads `name`', () => {
    expect(permissions('  - object: /srv\n    context: {user: system_u, type: t}\n')[0]?.context).toEqual({ type: 't' });
  });

  it('accepts a single type written without a list (divergence: the agent crashes on it)', () => {
    expect(permissions('  - object: /srv\n    type: file\n')[0]?.types).toEqual(['file']);
  });

  it('keeps an empty type list (the entry then applies to nothing), like the agent', () => {
    expect(permissions('  - object: /srv\n    type: []\n')[0]?.types).toEqual([]);
  });

  it('keeps an empty acls list (the ACL is reset to the mode-derived entries)', () => {
    expect(permissions('  - object: /srv\n    acls: []\n')[0]?.acls).toEqual([]);
  });

  it('an empty permissions section is allowed', () => {
    expect(permissions('  \n')).toEqual([]);
    expect(permissions('  []\n')).toEqual([]);
  });

  it('collects the problems of several entries and fields', () => {
    expect(issuesOf('  - mode: 9\n  - object: /x\n    type: [socket]\n    acls: ["u::7"]\n')).toEqual([
      { path: 'permissions[0].object', problem: 'missing (has no object value)' },
      { path: 'permissions[0].mode', problem: 'invalid character 9 in 9 (contains an invalid character)' },
      { path: 'permissions[1].type[0]', problem: 'object type not supported for permissions (socket); use file or directory' },
      { path: 'permissions[1].acls[0]', problem: 'Use mode to set the base acl entry (u::7)' },
    ]);
  });
});

describe('permission validation errors', () => {
  it.each([
    ['  - pattern: "*"\n', 'missing (has no object value)'],
    ['  - object:\n', 'missing (has no object value)'],
    ['  - object: "   "\n', 'missing (has no object value)'],
    ['  - object: [a]\n', 'must be a path (got a list)'],
  ])('object: %j', (yaml, problem) => {
    expect(oneIssue(yaml)).toEqual({ path: 'permissions[0].object', problem });
  });

  it('requires the section to be a list and each entry a map', () => {
    expect(oneIssue('  object: /x\n')).toEqual({ path: 'permissions', problem: 'must be a list of permission entries (got a map)' });
    expect(oneIssue('  - /x\n')).toEqual({ path: 'permissions[0]', problem: 'must be a map with an object (got a string)' });
  });

  it('rejects a pattern that is not text', () => {
    expect(oneIssue('  - object: /x\n    pattern: [a]\n')).toEqual({
      path: 'permissions[0].pattern',
      problem: 'must be a name pattern such as *.txt (got a list)',
    });
  });

  it('rejects an except that is not a list of names', () => {
    expect(oneIssue('  - object: /x\n    except: a.txt\n')).toEqual({ path: 'permissions[0].except', problem: 'must be a list of name patterns (got a string)' });
    expect(oneIssue('  - object: /x\n    except: [{a: b}]\n')).toEqual({ path: 'permissions[0].except[0]', problem: 'must be a name pattern (got a map)' });
  });

  it.each([
    ['[file, link]', 'permissions[0].type[1]', 'link'],
    ['symlink', 'permissions[0].type', 'symlink'],
    ['[File]', 'permissions[0].type[0]', 'File'],
    ['[[file]]', 'permissions[0].type[0]', 'a list'],
  ])('type %s is an object type not supported for permissions', (value, path, shown) => {
    expect(oneIssue(`  - object: /x\n    type: ${value}\n`)).toEqual({
      path,
      problem: `object type not supported for permissions (${shown}); use file or directory`,
    });
  });

  it.each([
    ['owner: ""', 'permissions[0].owner', 'must be a user name (got an empty string)'],
    ['group: ""', 'permissions[0].group', 'must be a group name (got an empty string)'],
    ['owner: [root]', 'permissions[0].owner', 'must be a user name (got a list)'],
    ['group: {a: b}', 'permissions[0].group', 'must be a group name (got a map)'],
  ])('%s (divergence for empty names: the agent fails only when running chown)', (line, path, problem) => {
    expect(oneIssue(`  - object: /x\n    ${line}\n`)).toEqual({ path, problem });
  });

  it('AP-12: mode 12345 has an invalid length of a permissions mode', () => {
    expect(oneIssue('  - object: /x\n    mode: 12345\n')).toEqual({
      path: 'permissions[0].mode',
      problem: 'invalid mode 12345 (the length of a permissions mode must be 1 to 4 octal digits)',
    });
  });

  it('AP-12: mode 12a contains an invalid character a', () => {
    expect(oneIssue('  - object: /x\n    mode: 12a\n')).toEqual({
      path: 'permissions[0].mode',
      problem: 'invalid character a in 12a (contains an invalid character)',
    });
  });

  it('rejects a mode that is not a number or text', () => {
    expect(oneIssue('  - object: /x\n    mode: [644]\n')).toEqual({ path: 'permissions[0].mode', problem: 'must be an octal mode such as 644 (got a list)' });
  });

  it('AP-14: malformed ACL entries are reported per entry', () => {
    expect(issuesOf('  - object: /x\n    acls: ["u::7", "mask:name:rwx", "user:bob:rwxd", 7, [a]]\n')).toEqual([
      { path: 'permissions[0].acls[0]', problem: 'Use mode to set the base acl entry (u::7)' },
      { path: 'permissions[0].acls[1]', problem: 'Invalid acl entry (mask:name:rwx)' },
      { path: 'permissions[0].acls[2]', problem: 'invalid character d in user:bob:rwxd (the acl entry contains an invalid character)' },
      { path: 'permissions[0].acls[3]', problem: 'Invalid acl entry (7)' },
      { path: 'permissions[0].acls[4]', problem: 'Invalid acl entry (a list); expected text such as u:bob:rw' },
    ]);
  });

  it('rejects acls that are not a list', () => {
    expect(oneIssue('  - object: /x\n    acls: u:bob:rw\n')).toEqual({
      path: 'permissions[0].acls',
      problem: 'must be a list of acl entries such as u:bob:rw (got a string)',
    });
  });

  it.each([
    ['context: httpd_sys_content_t', 'permissions[0].context', 'must be a map with name, type and range (got a string)'],
    ['context: {name: system_u}', 'permissions[0].context.type', 'missing (invalid context type: an SELinux type such as httpd_sys_content_t is required)'],
    ['context: {type: ""}', 'permissions[0].context.type', 'got an empty string (invalid context type: an SELinux type such as httpd_sys_content_t is required)'],
    ['context: {type: [a]}', 'permissions[0].context.type', 'got a list (invalid context type: an SELinux type such as httpd_sys_content_t is required)'],
    ['context: {type: t, name: [a]}', 'permissions[0].context.name', 'must be an SELinux user name (got a list)'],
    ['context: {type: t, range: [s0]}', 'permissions[0].context.range', 'must be text such as s0:c0.c5 (problem with the SELinux range: got a list)'],
  ])('%s', (line, path, problem) => {
    expect(oneIssue(`  - object: /x\n    ${line}\n`)).toEqual({ path, problem });
  });

  it.each([
    ['s3-s2', 'high sensitivity s2 is below low sensitivity s3'],
    ['s0:c1024', 'invalid category c1024'],
    ['s0:c1,c1', 'duplicate categories'],
    ['s3-', 'invalid range part s3-'],
    ['x0', 'invalid sensitivity x0'],
  ])('AP-15: range %s is a problem with the SELinux range', (range, problem) => {
    expect(oneIssue(`  - object: /x\n    context: {type: t, range: "${range}"}\n`)).toEqual({
      path: 'permissions[0].context.range',
      problem: `${problem} (problem with the SELinux range ${range})`,
    });
  });

  it('AP-15: a valid range is accepted unchanged or normalised', () => {
    const [a, b] = permissions('  - object: /a\n    context: {type: t, range: "s2-s3:c0,c2.c4,c6"}\n  - object: /b\n    context: {type: t, range: "s0:c0,c1,c2,c5"}\n');
    expect(a?.context?.range).toBe('s2-s3:c0,c2.c4,c6');
    expect(b?.context?.range).toBe('s0:c0.c2,c5');
  });
});

describe('normaliseMode', () => {
  it.each([
    [644, '644'],
    ['0644', '0644'],
    [7, '007'],
    ['7', '007'],
    [55, '055'],
    ['4755', '4755'],
    [0, '000'],
  ])('AP-12: %j → %s', (value, mode) => {
    expect(normaliseMode(value)).toEqual({ ok: true, value: mode });
  });

  it.each([
    ['07777', 'invalid mode 07777 (the length of a permissions mode must be 1 to 4 octal digits)'],
    [-1, 'invalid character - in -1 (contains an invalid character)'],
    ['u+x', 'invalid character u in u+x (contains an invalid character)'],
    [true, 'must be an octal mode such as 644 (got a boolean)'],
  ])('rejects %j', (value, problem) => {
    expect(normaliseMode(value)).toEqual({ ok: false, problem });
  });
});

describe('normaliseMode divergences', () => {
  it('rejects an empty mode (divergence: the agent pads it to 000)', () => {
    expect(normaliseMode('')).toEqual({ ok: false, problem: 'invalid mode (empty) (the length of a permissions mode must be 1 to 4 octal digits)' });
  });
});

describe('parsePermissions', () => {
  it('reports any entry on Windows once and checks no entry', () => {
    const issues: AppSpecIssue[] = [];
    expect(parsePermissions([{ mode: 'bad' }, { object: 'C:\\x' }], true, issues)).toEqual([]);
    expect(issues).toEqual([
      {
        path: 'permissions',
        problem:
          'the AppSpec specifies file permissions, but the deployment is targeting one or more Windows Server instances; permissions are supported on Linux only',
      },
    ]);
  });
});
