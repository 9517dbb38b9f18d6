/**
 * Which failures are the infrastructure's, not the request's: a dependency that is down or
 * restarting (CONNECTION), or a conflict between concurrent transactions (CONFLICT). Both are
 * worth retrying; neither says anything about the request. Everything else is not transient.
 */
export type TransientKind = 'CONNECTION' | 'CONFLICT';

const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** PostgreSQL SQLSTATEs: admin/crash shutdown, cannot connect now, too many connections. */
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** PostgreSQL SQLSTATEs: serialization failure, deadlock detected, lock not available. */
const CONFLICT_SQLSTATES = new Set(['40001', '40P01', '55P03']);
const CONNECTION_MESSAGES = [
  /timeout acquiring a connection/i,
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /connection is closed/i,
  /client has encountered a connection error/i,
  /stream isn't writeable/i,
  /reached the max retries per request/i,
];

/** Looks through wrapped errors (`cause`, MikroORM's `previous`) for a known transient failure. */
export function transientKind(error: unknown): TransientKind | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    const { code, sqlState, name, message } = e as Error & { code?: unknown; sqlState?: unknown };
    const state = typeof sqlState === 'string' ? sqlState : typeof code === 'string' ? code : '';
    if (CONFLICT_SQLSTATES.has(state) || name === 'DeadlockException' || name === 'LockWaitTimeoutException') {
      return 'CONFLICT';
    }
    if (
      CONNECTION_ERRNOS.has(state) ||
      CONNECTION_SQLSTATES.has(state) ||
      state.startsWith('08') ||
      name === 'ConnectionException' ||
      name === 'KnexTimeoutError' ||
      name === 'MaxRetriesPerRequestError' ||
      CONNECTION_MESSAGES.some((pattern) => pattern.test(message))
    ) {
      return 'CONNECTION';
    }
    e = (e as { cause?: unknown; previous?: unknown }).cause ?? (e as { previous?: unknown }).previous;
  }
  return undefined;
}
