import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { checkDatabaseUrl, redactPassword } from './store/database-url.js';

describe('database', () => {
  it('is unset by default (SQLite in the data directory), read from the file, and the flag wins over the file', () => {
    expect(resolveConfig(undefined, '', {}).database).toBeUndefined();
    expect(resolveConfig('database: postgres://fd@db:5432/fleet\n', 'c.yml', {}).database).toBe('postgres://fd@db:5432/fleet');
    expect(resolveConfig('database: postgres://fd@db/fleet\n', 'c.yml', { database: 'postgresql://fd@other/fleet' }).database).toBe('postgresql://fd@other/fleet');
  });

  it('takes a unix-socket URL, whose ?host= names the socket directory', () => {
    expect(checkDatabaseUrl('postgres://fd@localhost/fleet?host=/run/postgresql')).toBeUndefined();
    expect(checkDatabaseUrl('postgres:///fleet?host=/run/postgresql')).toBeUndefined();
  });

  it.each([
    ['', 'expected a postgres:// URL'],
    ['db.example/fleet', 'expected a postgres://user@host/database URL, got "db.example/fleet"'],
    ['sqlite:///var/lib/fd.db', 'expected a postgres:// URL (the SQLite store needs no URL: it is the data directory\'s file), got the scheme "sqlite"'],
    ['postgres://fd@db.example', 'names no database in postgres://fd@db.example (postgres://user@host/database)'],
    ['postgres:///fleet', 'names no host in postgres:///fleet (postgres://user@host/database, or ?host=/socket/dir)'],
    ['postgres://fd:hunter2@/fleet', 'expected a postgres://user@host/database URL, got "postgres://fd:***@/fleet"'],
  ])('refuses %j, naming the option and never showing a password', (value, problem) => {
    expect(checkDatabaseUrl(value)).toBe(problem);
    expect(() => resolveConfig(undefined, '', { database: value })).toThrow(`--database: ${problem}`);
    expect(() => resolveConfig(`database: "${value}"\n`, 'c.yml', {})).toThrow(`c.yml: database: ${problem}`);
  });

  it('hides the password of a URL in messages', () => {
    expect(redactPassword('postgres://fd:s3cr%40t@db/fleet')).toBe('postgres://fd:***@db/fleet');
    expect(redactPassword('postgres://fd@db/fleet')).toBe('postgres://fd@db/fleet');
  });
});
