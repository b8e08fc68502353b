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

describe('scriptCommandLine on Windows', () => {
  it('runs a .ps1 through powershell.exe -ExecutionPolicy Bypass -File, as the AWS agent does, the path one argument', () => {
    const ps1 = 'C:\\ProgramData\\Amazon\\CodeDeploy\\g\\d-1\\deployment-archive\\scripts\\Start Site.PS1';
    expect(scriptCommandLine({ path: ps1 }, 'win32')).toEqual({ file: 'powershell.exe', args: ['-ExecutionPolicy', 'Bypass', '-File', ps1] });
  });
  it('runs .bat, .cmd and .exe files as they are, and ignores the Linux-only runas and sudo', () => {
    expect(scriptCommandLine({ path: 'C:\\app\\install.bat', runas: 'web', sudo: true }, 'win32')).toEqual({ file: 'C:\\app\\install.bat', args: [] });
    expect(scriptCommandLine({ path: 'C:\\app\\tool.exe' }, 'win32')).toEqual({ file: 'C:\\app\\tool.exe', args: [] });
  });
  it('keeps the Linux command line for a .ps1 on Linux', () => {
    expect(scriptCommandLine({ path: '/a/s.ps1' }, 'linux')).toEqual({ file: '/a/s.ps1', args: [] });
  });
});
