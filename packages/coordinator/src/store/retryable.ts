/**
 * isRetryable tells an error after which running the whole transaction again may succeed: a
 * PostgreSQL serialization failure (40001) or deadlock (40P01). The PostgreSQL store runs such a
 * transaction again itself (pg-store.ts); code that catches errors inside a transaction (a
 * savepoint) must let these through, since only the whole transaction can be run again.
 */
const RETRYABLE = new Set(['40001', '40P01']);

export function isRetryable(err: unknown): boolean {
  return RETRYABLE.has((err as { code?: string } | null)?.code ?? '');
}
