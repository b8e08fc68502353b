import { describe, it, expect } from 'vitest';
import { isDeployError } from '../errors.js';
import { AppSpecError, parseAppSpec, type AppSpecIssue, type ParseAppSpecOptions } from './parse.js';

const LINUX = { platform: 'linux' } as const;

/** A Server AppSpec for Linux with the given sections appended. */
function server(rest = ''): string {
  return `version: 0.0\nos: linux\n${rest}`;
}

function issuesOf(text: string, opts: ParseAppSpecOptions = LINUX): AppSpecIssue[] {
  try {
    parseAppSpec(text, opts);
  } catch (err) {
    if (err instanceof AppSpecError) return err.issues;
    throw err;
  }
  throw new Error('expected an AppSpecError');
}

/** The single issue an AppSpec has, asserting there is exactly one. */
function oneIssue(text: string, opts: ParseAppSpecOptions = LINUX): AppSpecIssue {
  const issues = issuesOf(text, opts);
  expect(issues).toHaveLength(1);
  return issues[0]!;
}

describe('AppSpecError', () => {
  it('is an UnknownError DeployError whose message lists every issue as path: problem', () => {
    let caught: unknown;
    try {
      parseAppSpec('version: 1\nos: linux\nfile_exists_behavior: nope\n', LINUX);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppSpecError);
    expect(isDeployError(caught)).toBe(true);
    const err = caught as AppSpecError;
    expect(err.name).toBe('DeployError');
    expect(err.code).toBe('UnknownError');
    expect(err.issues.map((i) => i.path)).toEqual(['version', 'file_exists_behavior']);
    expect(err.message).toBe(
      'appspec: version: invalid version value (1); only 0.0 is supported; ' +
        'file_exists_behavior: invalid file_exists_behavior value (nope); use DISALLOW, OVERWRITE, RETAIN',
    );
    expect(err.toDiagnostics().errorCode).toBe('UnknownError');
  });

  it('collects problems from every section in the agent order (divergence: the agent stops at the first)', () => {
    const issues = issuesOf(
      [
        'version: 2',
        'os: bogus',
        'hooks:',
        '  AfterInstall:',
        '    - location: a.sh',
        '    - timeout: 30',
        'files:',
        '  - source: a.txt',
        'permissions:',
        '  - object: /x',
        '  - object: /y',
        '  - object: /z',
        '    mode: "0888"',
        'file_exists_behavior: overwrite',
      ].join('\n'),
    );
    expect(issues).toEqual([
      { path: 'version', problem: 'invalid version value (2); only 0.0 is supported' },
      { path: 'os', problem: 'unsupported operating system (bogus); this host runs linux' },
      { path: 'hooks.AfterInstall[1].location', problem: 'missing (script with no location value)' },
      { path: 'files[0].destination', problem: 'missing (the entry specifies only a source file (a.txt))' },
      { path: 'permissions[2].mode', problem: 'invalid character 8 in 0888 (contains an invalid character)' },
      { path: 'file_exists_behavior', problem: 'invalid file_exists_behavior value (overwrite); use DISALLOW, OVERWRITE, RETAIN' },
    ]);
  });
});

describe('YAML and the document', () => {
  it.each(['', '   \n\t\n', '---', '---\n...\n', '# only a comment\n', '~', 'null'])(
    'AP-01: %j is an empty application specification',
    (text) => {
      expect(oneIssue(text)).toEqual({ path: '(document)', problem: 'application specification file was empty' });
    },
  );

  it('reports a YAML syntax error with its line and column under (yaml)', () => {
    const issue = oneIssue('version: 0.0\nos: linux\nhooks: [\n');
    expect(issue.path).toBe('(yaml)');
    expect(issue.problem).toMatch(/at line \d+, column \d+$/);
  });

  it('reports a duplicated key as a YAML error naming the line', () => {
    expect(oneIssue('version: 0.0\nos: linux\nos: linux\n')).toEqual({
      path: '(yaml)',
      problem: expect.stringMatching(/^duplicated mapping key at line 3, column 1$/),
    });
  });

  it('reports several YAML documents in one file as a YAML error', () => {
    expect(oneIssue('version: 0.0\n---\nos: linux\n').path).toBe('(yaml)');
  });

  it.each([
    ['- version: 0.0', 'a list'],
    ['just text', 'a string'],
    ['42', 'a number'],
  ])('requires the top level to be a map (%j)', (text, kind) => {
    expect(oneIssue(text)).toEqual({
      path: '(document)',
      problem: `must be a map of AppSpec sections such as version and hooks (got ${kind})`,
    });
  });

  it('ignores unknown top-level keys', () => {
    expect(parseAppSpec(server('extra: {a: 1}\nResources: []\n'), LINUX).kind).toBe('server');
  });

  it('keeps unquoted dates as text (divergence: agents on Psych 4 reject the file)', () => {
    expect(parseAppSpec(server('released: 2020-01-01\nhooks:\n  AfterInstall:\n    - location: 2020-01-01\n'), LINUX).hooks).toEqual({
      AfterInstall: [{ location: '2020-01-01', timeout: 3600 }],
    });
  });

  it('accepts anchors and aliases (divergence: agents on Psych 4 reject the file)', () => {
    const spec = parseAppSpec(
      server('hooks:\n  BeforeInstall: &scripts\n    - location: s.sh\n  AfterInstall: *scripts\n'),
      LINUX,
    );
    expect(spec.hooks['AfterInstall']).toEqual([{ location: 's.sh', timeout: 3600 }]);
  });

  it('accepts a JSON AppSpec', () => {
    const spec = parseAppSpec('{"version": 0.0, "os": "linux", "files": [{"source": "/", "destination": "/srv"}]}', LINUX);
    expect(spec.files).toEqual([{ source: '/', destination: '/srv' }]);
  });
});

describe('version', () => {
  it('AP-02: version 0.0 and os linux alone are a valid, empty AppSpec', () => {
    expect(parseAppSpec('version: 0.0\nos: linux\n', LINUX)).toEqual({
      kind: 'server',
      version: 0,
      os: 'linux',
      files: [],
      permissions: [],
      hooks: {},
    });
  });

  it('AP-03: accepts a quoted "0.0" version (divergence: the AWS agent rejects it)', () => {
    expect(parseAppSpec('version: "0.0"\nos: linux\n', LINUX).version).toBe(0);
    expect(parseAppSpec("version: '0'\nos: linux\n", LINUX).version).toBe(0);
  });

  it('AP-04: accepts version 0', () => {
    expect(parseAppSpec('version: 0\nos: linux\n', LINUX).version).toBe(0);
  });

  it('AP-05: with a bad version and a bad os the version problem comes first', () => {
    const issues = issuesOf('version: 1.0\nos: bogus\n');
    expect(issues[0]).toEqual({ path: 'version', problem: 'invalid version value (1.0); only 0.0 is supported' });
    expect(issues[1]).toEqual({ path: 'os', problem: 'unsupported operating system (bogus); this host runs linux' });
  });

  it.each([
    ['version: 0.1', '0.1'],
    ['version: "1.0"', '1.0'],
    ['version: "0.0 "', '0.0 '],
    ['version: zero', 'zero'],
    ['version: true', 'true'],
    ['version: [0]', 'a list'],
    ['version:', ''],
    ['', ''],
  ])('rejects %j', (line, shown) => {
    expect(oneIssue(`${line}\nos: linux\n`)).toEqual({
      path: 'version',
      problem: `invalid version value (${shown}); only 0.0 is supported`,
    });
  });
});

describe('os', () => {
  it('AP-06: os windows on a Linux host is an unsupported operating system', () => {
    expect(oneIssue('version: 0.0\nos: windows\n')).toEqual({
      path: 'os',
      problem: 'unsupported operating system (windows); this host runs linux',
    });
  });

  it('os linux on a Windows host is an unsupported operating system', () => {
    expect(oneIssue('version: 0.0\nos: linux\n', { platform: 'windows' }).problem).toContain('unsupported operating system (linux)');
  });

  it.each([['os: Linux', 'Linux'], ['os:', ''], ['', '']])('rejects %j (case-sensitive, required)', (line, shown) => {
    expect(oneIssue(`version: 0.0\n${line}\n`)).toEqual({
      path: 'os',
      problem: `unsupported operating system (${shown}); this host runs linux`,
    });
  });

  it('accepts os windows on a Windows host', () => {
    expect(parseAppSpec('version: 0.0\nos: windows\n', { platform: 'windows' }).os).toBe('windows');
  });
});

describe('hooks', () => {
  it('parses scripts in order with defaults, trimming location and runas', () => {
    const spec = parseAppSpec(
      server(
        [
          'hooks:',
          '  BeforeInstall:',
          '    - location: "  scripts/a.sh  "',
          '      runas: " deploy "',
          '    - location: scripts/b.sh',
          '      timeout: 300',
          '      sudo: true',
          '  MyCustomEvent:',
          '    - location: c.sh',
          '      runas: "  "',
        ].join('\n'),
      ),
      LINUX,
    );
    expect(spec.hooks).toEqual({
      BeforeInstall: [
        { location: 'scripts/a.sh', timeout: 3600, runas: 'deploy' },
        { location: 'scripts/b.sh', timeout: 300, sudo: true },
      ],
      MyCustomEvent: [{ location: 'c.sh', timeout: 3600 }],
    });
    expect(Object.keys(spec.hooks)).toEqual(['BeforeInstall', 'MyCustomEvent']);
  });

  it('AP-07: a script without location is a script with no location value', () => {
    expect(oneIssue(server('hooks:\n  AfterInstall:\n    - timeout: 30\n'))).toEqual({
      path: 'hooks.AfterInstall[0].location',
      problem: 'missing (script with no location value)',
    });
  });

  it.each([
    ['location:', 'missing (script with no location value)'],
    ['location: "   "', 'empty (script with no location value)'],
    ['location: [a.sh]', 'must be a script path (got a list)'],
    ['location: true', 'must be a script path (got a boolean)'],
  ])('rejects %j', (line, problem) => {
    expect(oneIssue(server(`hooks:\n  AfterInstall:\n    - ${line}\n`))).toEqual({ path: 'hooks.AfterInstall[0].location', problem });
  });

  it.each([
    ['"45"', 45],
    ['45', 45],
    ['30.9', 30],
    ['"30s"', 30],
    ['" 12 "', 12],
  ])('AP-08: timeout %s is %d seconds (leading integer)', (value, seconds) => {
    const spec = parseAppSpec(server(`hooks:\n  AfterInstall:\n    - location: a.sh\n      timeout: ${value}\n`), LINUX);
    expect(spec.hooks['AfterInstall']?.[0]?.timeout).toBe(seconds);
  });

  it('reads timeout 1e3 as 1000 seconds (divergence: YAML 1.1 makes it the text "1e3", which the agent reads as 1)', () => {
    const spec = parseAppSpec(server('hooks:\n  AfterInstall:\n    - location: a.sh\n      timeout: 1e3\n'), LINUX);
    expect(spec.hooks['AfterInstall']?.[0]?.timeout).toBe(1000);
  });

  it('drops a blank runas (divergence: the agent would run the script as user "")', () => {
    const spec = parseAppSpec(server('hooks:\n  AfterInstall:\n    - location: a.sh\n      runas: "  "\n'), LINUX);
    expect(spec.hooks['AfterInstall']?.[0]).toEqual({ location: 'a.sh', timeout: 3600 });
  });

  it('AP-08: a script without timeout gets 3600 seconds, as does a null timeout', () => {
    const spec = parseAppSpec(server('hooks:\n  AfterInstall:\n    - location: a.sh\n    - location: b.sh\n      timeout:\n'), LINUX);
    expect(spec.hooks['AfterInstall']?.map((s) => s.timeout)).toEqual([3600, 3600]);
  });

  it('has no upper bound on a timeout, like the agent', () => {
    const spec = parseAppSpec(server('hooks:\n  AfterInstall:\n    - location: a.sh\n      timeout: 86400\n'), LINUX);
    expect(spec.hooks['AfterInstall']?.[0]?.timeout).toBe(86400);
  });

  it.each([
    ['foo', 'foo'],
    ['0', '0'],
    ['-5', '-5'],
    ['"0.5"', '0.5'],
    ['0.5', '0.5'],
    ['true', 'true'],
    ['.inf', '.inf'],
    ['[30]', 'a list'],
  ])('AP-08: timeout %s is an invalid timeout value', (value, shown) => {
    expect(oneIssue(server(`hooks:\n  AfterInstall:\n    - location: a.sh\n      timeout: ${value}\n`))).toEqual({
      path: 'hooks.AfterInstall[0].timeout',
      problem: `invalid timeout value (${shown}); must be a positive number of seconds`,
    });
  });

  it('AP-09: a hook with a null value is ignored', () => {
    expect(parseAppSpec(server('hooks:\n  AfterInstall:\n  BeforeInstall: ~\n'), LINUX).hooks).toEqual({});
  });

  it('a hook with an empty list is kept as a no-op', () => {
    expect(parseAppSpec(server('hooks:\n  AfterInstall: []\n'), LINUX).hooks).toEqual({ AfterInstall: [] });
  });

  it('a null hooks section means no hooks', () => {
    expect(parseAppSpec(server('hooks:\n'), LINUX).hooks).toEqual({});
  });

  it('keeps an event named __proto__ as an ordinary event', () => {
    const hooks = parseAppSpec(server('hooks:\n  "__proto__":\n    - location: a.sh\n'), LINUX).hooks;
    expect(Object.keys(hooks)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(hooks)).toBe(Object.prototype);
  });

  it('requires hooks to be a map', () => {
    expect(oneIssue(server('hooks:\n  - AfterInstall: a.sh\n'))).toEqual({
      path: 'hooks',
      problem: 'must be a map of lifecycle event names to lists of scripts (got a list)',
    });
  });

  it('requires each event to hold a list of scripts', () => {
    expect(oneIssue(server('hooks:\n  AfterInstall:\n    location: a.sh\n'))).toEqual({
      path: 'hooks.AfterInstall',
      problem: 'must be a list of scripts, each with a location (got a map)',
    });
  });

  it('requires each script to be a map', () => {
    expect(oneIssue(server('hooks:\n  AfterInstall:\n    - scripts/a.sh\n'))).toEqual({
      path: 'hooks.AfterInstall[0]',
      problem: 'must be a map with a location (got a string)',
    });
  });

  it('rejects a runas that is not text', () => {
    expect(oneIssue(server('hooks:\n  AfterInstall:\n    - location: a.sh\n      runas: [root]\n'))).toEqual({
      path: 'hooks.AfterInstall[0].runas',
      problem: 'must be a user name (got a list)',
    });
  });

  it('reads sudo yes/no as booleans, as YAML 1.1 does for the agent', () => {
    const spec = parseAppSpec(server('hooks:\n  A:\n    - location: a.sh\n      sudo: yes\n    - location: b.sh\n      sudo: Off\n'), LINUX);
    expect(spec.hooks['A']?.map((s) => s.sudo)).toEqual([true, false]);
  });

  it('rejects a sudo that is not a boolean (divergence: the agent treats any value as true)', () => {
    expect(oneIssue(server('hooks:\n  A:\n    - location: a.sh\n      sudo: maybe\n'))).toEqual({
      path: 'hooks.A[0].sudo',
      problem: 'must be true or false (got maybe)',
    });
  });
});

describe('files', () => {
  it('keeps source and destination verbatim', () => {
    const spec = parseAppSpec(
      server('files:\n  - source: /\n    destination: /srv/all\n  - source: " app/a.txt"\n    destination: /srv/app/\n  - source: ""\n    destination: out\n'),
      LINUX,
    );
    expect(spec.files).toEqual([
      { source: '/', destination: '/srv/all' },
      { source: ' app/a.txt', destination: '/srv/app/' },
      { source: '', destination: 'out' },
    ]);
  });

  it('AP-10: an entry with only a source specifies only a source file', () => {
    expect(oneIssue(server('files:\n  - source: a.txt\n'))).toEqual({
      path: 'files[0].destination',
      problem: 'missing (the entry specifies only a source file (a.txt))',
    });
  });

  it('AP-10: an entry with only a destination has no source file', () => {
    expect(oneIssue(server('files:\n  - destination: /x\n'))).toEqual({
      path: 'files[0].source',
      problem: 'missing (the entry specifies a destination file, but no source file)',
    });
  });

  it('an entry with neither is one problem (divergence: the agent reports only the missing source)', () => {
    expect(oneIssue(server('files:\n  - {}\n'))).toEqual({
      path: 'files[0]',
      problem: 'missing source and destination (the entry specifies neither a source file nor a destination)',
    });
  });

  it('rejects non-text paths', () => {
    expect(issuesOf(server('files:\n  - source: [a]\n    destination: {b: c}\n'))).toEqual([
      { path: 'files[0].source', problem: 'must be a path in the bundle (got a list)' },
      { path: 'files[0].destination', problem: 'must be a directory path (got a map)' },
    ]);
  });

  it('requires files to be a list of maps', () => {
    expect(oneIssue(server('files:\n  source: a\n'))).toEqual({
      path: 'files',
      problem: 'must be a list of maps with source and destination (got a map)',
    });
    expect(oneIssue(server('files:\n  - a.txt\n'))).toEqual({
      path: 'files[0]',
      problem: 'must be a map with source and destination (got a string)',
    });
  });
});

describe('file_exists_behavior', () => {
  it.each(['DISALLOW', 'OVERWRITE', 'RETAIN'] as const)('accepts %s', (value) => {
    expect(parseAppSpec(server(`file_exists_behavior: ${value}\n`), LINUX).fileExistsBehavior).toBe(value);
  });

  it('is absent when not given', () => {
    expect(parseAppSpec(server('file_exists_behavior:\n'), LINUX)).not.toHaveProperty('fileExistsBehavior');
  });

  it.each([
    ['overwrite', 'overwrite'],
    ['Retain', 'Retain'],
    ['[RETAIN]', 'a list'],
  ])('AP-11: %s is an invalid file_exists_behavior value (case-sensitive)', (value, shown) => {
    expect(oneIssue(server(`file_exists_behavior: ${value}\n`))).toEqual({
      path: 'file_exists_behavior',
      problem: `invalid file_exists_behavior value (${shown}); use DISALLOW, OVERWRITE, RETAIN`,
    });
  });
});

describe('permissions through parseAppSpec', () => {
  it('AP-12: unquoted mode 0644 is read as 644 (divergence: the agent reads YAML 1.1 octal, giving 420)', () => {
    const spec = parseAppSpec(server('permissions:\n  - object: /srv/app\n    mode: 0644\n'), LINUX);
    expect(spec.permissions[0]?.mode).toBe('644');
  });

  it('AP-13: any permissions entry on a Windows host targets Windows Server instances', () => {
    expect(oneIssue('version: 0.0\nos: windows\npermissions:\n  - object: C:\\app\n', { platform: 'windows' })).toEqual({
      path: 'permissions',
      problem: expect.stringContaining('targeting one or more Windows Server instances'),
    });
  });

  it('an empty permissions list is allowed on Windows', () => {
    expect(parseAppSpec('version: 0.0\nos: windows\npermissions: []\n', { platform: 'windows' }).permissions).toEqual([]);
  });

  it('os windows with permissions on a Linux host reports both problems', () => {
    expect(issuesOf('version: 0.0\nos: windows\npermissions:\n  - object: /x\n').map((i) => i.path)).toEqual(['os', 'permissions']);
  });
});

describe('compute platforms', () => {
  it('defaults to Server', () => {
    expect(parseAppSpec(server(), { platform: 'linux', computePlatform: 'Server' }).kind).toBe('server');
  });

  it('checks the version of Lambda and ECS AppSpecs too, ignoring key case', () => {
    const lambda = 'Version: 2\nResources:\n  - f:\n      Type: AWS::Lambda::Function\n      Properties: {Name: f, Alias: live, CurrentVersion: 1, TargetVersion: 2}\n';
    expect(issuesOf(lambda, { platform: 'linux', computePlatform: 'Lambda' })).toEqual([
      { path: 'Version', problem: 'invalid version value (2); only 0.0 is supported' },
    ]);
    expect(issuesOf('Resources: []\n', { platform: 'linux', computePlatform: 'ECS' })[0]).toEqual({
      path: 'version',
      problem: 'invalid version value (); only 0.0 is supported',
    });
  });
});
