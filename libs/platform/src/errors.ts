/**
 * Errors every module raises and every transport maps to a status code. A module never
 * throws a transport error: it throws a TallyError, and the server's adapter turns it into
 * gRPC/Connect status, message and details. Anything that is not a TallyError is unexpected
 * and is answered INTERNAL without its internals.
 */

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'UNIMPLEMENTED'
  | 'DEADLINE_EXCEEDED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED';

/** One bad request field, named as in the protobuf contract (`ledger_id`, `currencies[2]`). */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

export interface ErrorDetails {
  /** Field violations, for INVALID_ARGUMENT. */
  readonly violations?: readonly FieldViolation[];
  /** A stable machine-readable reason, for example `CURRENCY_NOT_ENABLED`. */
  readonly reason?: string;
  /** Facts about the failure, as strings. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** The resource an error is about, for NOT_FOUND and ALREADY_EXISTS. */
  readonly resource?: { readonly type: string; readonly name: string };
  /** For RESOURCE_EXHAUSTED: how long to wait before calling again. */
  readonly retryDelayMs?: number;
  /** For RESOURCE_EXHAUSTED: the budgets spent, and whose (`key:<id>`, `address:<ip>`, `server`). */
  readonly quotaViolations?: ReadonlyArray<{ readonly subject: string; readonly description: string }>;
}

export class TallyError extends Error {
  override readonly name = 'TallyError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

export function invalidArgument(violations: readonly FieldViolation[]): TallyError {
  if (violations.length === 0) throw new Error('invalidArgument needs at least one violation');
  const summary = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
  return new TallyError('INVALID_ARGUMENT', `invalid request: ${summary}`, { violations });
}

export function notFound(type: string, name: string): TallyError {
  return new TallyError('NOT_FOUND', `${type} ${name} not found`, { resource: { type, name } });
}

export function failedPrecondition(
  reason: string,
  message: string,
  metadata: Record<string, string> = {},
): TallyError {
  return new TallyError('FAILED_PRECONDITION', message, { reason, metadata });
}

export function isTallyError(error: unknown): error is TallyError {
  return error instanceof TallyError;
}
