/**
 * The `database` setting: where the coordinator's store lives. Unset, it is the SQLite file in the
 * data directory; a `postgres://` (or `postgresql://`) URL names a PostgreSQL database shared by
 * several coordinators. Checked when the configuration is read, so a typo fails at start with the
 * option's name rather than at the first query.
 */

/** checkDatabaseUrl returns what is wrong with `value` as a PostgreSQL URL, or undefined when it is one. */
export function checkDatabaseUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'expected a postgres:// URL';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `expected a postgres://user@host/database URL, got ${JSON.stringify(redactPassword(value))}`;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return `expected a postgres:// URL (the SQLite store needs no URL: it is the data directory's file), got the scheme ${JSON.stringify(url.protocol.slice(0, -1))}`;
  }
  // A unix-socket URL names its directory as ?host=/path and may leave the authority's host empty.
  if (url.hostname === '' && !url.searchParams.has('host')) return `names no host in ${redactPassword(value)} (postgres://user@host/database, or ?host=/socket/dir)`;
  if (url.pathname === '' || url.pathname === '/') return `names no database in ${redactPassword(value)} (postgres://user@host/database)`;
  return undefined;
}

/** redactPassword hides a URL's password, for error messages and logs. */
export function redactPassword(value: string): string {
  return value.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}

/**
 * connectFailure says why a connection failed in a few words. A host name with several addresses
 * (localhost: ::1 and 127.0.0.1) fails with an AggregateError whose own message is empty.
 */
export function connectFailure(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: Array<{ message?: string }> };
  const inner = e.errors?.map((x) => x.message).filter((m) => m !== undefined && m !== '');
  if (inner !== undefined && inner.length > 0) return inner.join('; ');
  if (e.message !== undefined && e.message !== '') return e.message;
  return e.code ?? String(err);
}
