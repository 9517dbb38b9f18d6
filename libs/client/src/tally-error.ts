import { Code, ConnectError } from '@connectrpc/connect';
import type { HeaderValues } from './call-headers.js';
import { BadRequestSchema, ErrorInfoSchema, ResourceInfoSchema, RetryInfoSchema } from '@tally/contracts';

/** The header (or trailer) in which Tally answers the id it gave a request. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The ErrorInfo domain of errors the client itself raises (timeouts, aborts, misuse). */
export const CLIENT_ERROR_DOMAIN = 'tally.client';

/** One bad field of a refused request, as the server's google.rpc.BadRequest names it. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** What a TallyError carries besides Connect's code and message. */
export interface TallyErrorFacts {
  readonly reason?: string;
  readonly domain?: string;
  readonly facts?: Readonly<Record<string, string>>;
  readonly violations?: readonly FieldViolation[];
  readonly retryDelayMs?: number;
  readonly resource?: { readonly type: string; readonly name: string };
  readonly requestId?: string;
  /** The response's headers and trailers (ConnectError's `metadata`). */
  readonly metadata?: HeaderValues;
  readonly cause?: unknown;
}

/** Marks TallyErrors, also across two copies of this package in one program. */
const TALLY_ERROR_BRAND: unique symbol = Symbol.for('@tally/client.TallyError');

/**
 * Every error from a Tally client: Connect's code and message, plus what the server's error
 * details say, decoded (ErrorInfo, BadRequest, RetryInfo, ResourceInfo) and the request id the
 * server answered, when it did.
 */
export class TallyError extends ConnectError {
  /** ErrorInfo.reason: a stable, machine-readable cause (`INSUFFICIENT_FUNDS`, `API_KEY_INVALID`, ...). */
  readonly reason: string | undefined;
  /** ErrorInfo.domain: `tally.v1` for the server's, `tally.client` for the client's own. */
  readonly domain: string | undefined;
  /** ErrorInfo.metadata: the facts behind the reason (balance, amount, ...). ConnectError's `metadata` stays the response's headers and trailers. */
  readonly facts: Readonly<Record<string, string>>;
  /** BadRequest: one entry per bad request field, named as in the request (`currencies[1]`). */
  readonly violations: readonly FieldViolation[];
  /** RetryInfo: how long the server asked to wait before calling again. */
  readonly retryDelayMs: number | undefined;
  /** ResourceInfo: what was not found or already exists (`ledger`, `operation`) and its id. */
  readonly resource: { readonly type: string; readonly name: string } | undefined;
  /** The `x-request-id` the server answered (header or trailer), when it did. */
  readonly requestId: string | undefined;
  private readonly [TALLY_ERROR_BRAND] = true;

  constructor(message: string, code: Code, facts: TallyErrorFacts = {}) {
    super(message, code, facts.metadata, undefined, facts.cause);
    // ConnectError recognises its instances by this name (see ConnectError[Symbol.hasInstance]):
    // TallyError keeps it so that `instanceof ConnectError` and ConnectError.from still see one.
    this.name = 'ConnectError';
    this.reason = facts.reason;
    this.domain = facts.domain;
    this.facts = Object.freeze({ ...facts.facts });
    this.violations = Object.freeze([...(facts.violations ?? [])]);
    this.retryDelayMs = facts.retryDelayMs;
    this.resource = facts.resource;
    this.requestId = facts.requestId ?? this.metadata.get(REQUEST_ID_HEADER) ?? undefined;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TALLY_ERROR_BRAND] === true;
  }
}

/** Any error (typically a caught ConnectError) as a TallyError, its details decoded. */
export function toTallyError(error: unknown): TallyError {
  if (error instanceof TallyError) return error;
  const connectError = ConnectError.from(error);
  const [errorInfo] = connectError.findDetails(ErrorInfoSchema);
  const violations = connectError.findDetails(BadRequestSchema).flatMap((badRequest) =>
    badRequest.fieldViolations.map((v) => ({ field: v.field, description: v.description })),
  );
  const [retryInfo] = connectError.findDetails(RetryInfoSchema);
  const [resourceInfo] = connectError.findDetails(ResourceInfoSchema);
  const tallyError = new TallyError(connectError.rawMessage, connectError.code, {
    reason: errorInfo?.reason || undefined,
    domain: errorInfo?.domain || undefined,
    facts: errorInfo?.metadata,
    violations,
    retryDelayMs: retryInfo?.retryDelay ? durationMs(retryInfo.retryDelay) : undefined,
    resource: resourceInfo ? { type: resourceInfo.resourceType, name: resourceInfo.resourceName } : undefined,
    metadata: connectError.metadata,
    cause: connectError.cause ?? error,
  });
  // The raw details stay available to findDetails(), as on the ConnectError.
  tallyError.details = connectError.details;
  return tallyError;
}

function durationMs(duration: { seconds: bigint; nanos: number }): number {
  return Number(duration.seconds) * 1_000 + Math.ceil(duration.nanos / 1_000_000);
}

/** A TallyError the client raises itself, in domain `tally.client`. */
export function clientError(message: string, code: Code, reason: string, facts: Record<string, string> = {}, cause?: unknown): TallyError {
  return new TallyError(message, code, { reason, domain: CLIENT_ERROR_DOMAIN, facts, cause });
}
