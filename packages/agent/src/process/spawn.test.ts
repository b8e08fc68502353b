import { describe, expect, it } from 'vitest';
import { scriptCommandLine } from './spawn.js';

describe('scriptCommandLine', () => {
  it('builds the AWS agent command lines for plain, runas, sudo and sudo+runas', () => {
    expect(scriptCommandLine({ path: '/a/s.sh' })).toEqual({ file: '/a/s.sh', args: [] });
    expect(scriptCommandLine({ path: '/a/s.sh', runas: 'deploy' })).toEqual({ file: 'su', args: ['deploy', '-c', '/a/s.sh'] });
    expect(scriptCommandLine({ path: '/a/s.sh', sudo: true })).toEqual({ file: 'sudo', args: ['/a/s.sh'] });
    expect(scriptCommandLine({ path: '/a/s.sh', runas: 'deploy', sudo: true })).toEqual({
      file: 'sudo',
      args: ['su', 'deploy', '-c', '/a/s.sh'],
    });
  });

  it('divergence: a path with spaces or quotes stays one word (agent: inserted unquoted)', () => {
    expect(scriptCommandLine({ path: "/a b/it's.sh" })).toEqual({ file: "/a b/it's.sh", args: [] });
    expect(scriptCommandLine({ path: "/a b/it's.sh", runas: 'deploy' }).args).toEqual(['deploy', '-c', `'/a b/it'\\''s.sh'`]);
  });
});
