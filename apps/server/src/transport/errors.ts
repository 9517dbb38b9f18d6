import { randomUUID } from 'node:crypto';
import { create, createRegistry, toBinary } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import {
  BadRequestSchema,
  ErrorInfoSchema,
  QuotaFailureSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
  StatusSchema,
  type Status,
} from '@tally/contracts';
import { isTallyError, transientKind, type ErrorCode, type FieldViolation, type Logger, type TallyError } from '@tally/platform';

/**
 * The one mapping from what a handler throws to what a client receives, used by both
 * transports (the Connect router and the grpc-js adapter both see only its output).
 *
 * - TallyError: its code, message and details as google.rpc detail messages.
 * - ConnectError: passes through unchanged (a handler or the transport already chose).
 * - PostgreSQL or Redis down or restarting: UNAVAILABLE, which clients may retry.
 * - a serialization failure or deadlock with concurrent work: ABORTED, which clients may retry.
 * - anything else is a bug: INTERNAL with a correlation id; the error itself is only logged.
 */

/**
 * Every google.rpc detail message an error may carry: what a Connect JSON answer needs to
 * write them (a batch's per-item google.rpc.Status holds them packed in Any).
 */
export const ERROR_DETAILS_REGISTRY = createRegistry(BadRequestSchema, ErrorInfoSchema, ResourceInfoSchema, RetryInfoSchema, QuotaFailureSchema);

/** ErrorInfo.domain of every Tally error. */
export const ERROR_DOMAIN = 'tally.v1';

const CODES: Readonly<Record<ErrorCode, Code>> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  UNAVAILABLE: Code.Unavailable,
  UNIMPLEMENTED: Code.Unimplemented,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  UNAUTHENTICATED: Code.Unauthenticated,
  PERMISSION_DENIED: Code.PermissionDenied,
};

/** `rpc` names the call in logs, as `tally.v1.LedgerService/CreateLedger`. */
export function toConnectError(error: unknown, logger: Logger, rpc: string): ConnectError {
  if (error instanceof ConnectError) return error;
  if (isTallyError(error)) return fromTallyError(error);
  if (transientKind(error) === 'CONNECTION') return unavailable(error, logger, rpc);
  if (transientKind(error) === 'CONFLICT') return aborted(error, logger, rpc);
  return internalError(error, logger, rpc);
}

/** Lost a race with concurrent work (nothing was changed): the same request may simply be sent again. */
function aborted(error: unknown, logger: Logger, rpc: string): ConnectError {
  const correlationId = randomUUID();
  logger.warn({ err: error, correlationId, rpc }, 'conflict with concurrent work; answered ABORTED');
  return new ConnectError(`conflicted with concurrent work and changed nothing; retry (correlation id ${correlationId})`, Code.Aborted, undefined, [
    { desc: ErrorInfoSchema, value: { reason: 'CONCURRENT_CONFLICT', domain: ERROR_DOMAIN, metadata: { correlation_id: correlationId } } },
  ]);
}

/** A dependency is down: say so, retryably, and log which one and why. */
function unavailable(error: unknown, logger: Logger, rpc: string): ConnectError {
  const correlationId = randomUUID();
  logger.warn({ err: error, correlationId, rpc }, 'dependency unavailable; answered UNAVAILABLE');
  return new ConnectError(
    `a storage dependency is unavailable; retry with backoff (correlation id ${correlationId})`,
    Code.Unavailable,
    undefined,
    [{ desc: ErrorInfoSchema, value: { reason: 'DEPENDENCY_UNAVAILABLE', domain: ERROR_DOMAIN, metadata: { correlation_id: correlationId } } }],
  );
}

/**
 * INTERNAL with a fresh correlation id: the client gets only the id, the log gets the error, so
 * an operator can find one from the other without leaking stack traces or SQL to callers.
 */
export function internalError(error: unknown, logger: Logger, rpc: string): ConnectError {
  const correlationId = randomUUID();
  logger.error({ err: error, correlationId, rpc }, 'unexpected error answered INTERNAL');
  return new ConnectError(`internal error (correlation id ${correlationId})`, Code.Internal, undefined, [
    {
      desc: ErrorInfoSchema,
      value: { reason: 'INTERNAL', domain: ERROR_DOMAIN, metadata: { correlation_id: correlationId } },
    },
  ]);
}

function fromTallyError(error: TallyError): ConnectError {
  const { violations, reason, metadata, resource, retryDelayMs, quotaViolations } = error.details;
  const details: ConstructorParameters<typeof ConnectError>[3] = [];
  if (violations !== undefined && violations.length > 0) {
    details.push({
      desc: BadRequestSchema,
      value: { fieldViolations: violations.map(({ field, description }) => ({ field, description })) },
    });
  }
  if (reason !== undefined || metadata !== undefined) {
    // ErrorInfo.reason is the machine-readable key clients switch on; fall back to the code so
    // it is never empty.
    details.push({
      desc: ErrorInfoSchema,
      value: { reason: reason ?? error.code, domain: ERROR_DOMAIN, metadata: { ...metadata } },
    });
  }
  if (resource !== undefined) {
    details.push({
      desc: ResourceInfoSchema,
      value: { resourceType: resource.type, resourceName: resource.name, description: error.message },
    });
  }
  if (retryDelayMs !== undefined) details.push({ desc: RetryInfoSchema, value: { retryDelay: durationFromMs(retryDelayMs) } });
  if (quotaViolations !== undefined && quotaViolations.length > 0) {
    details.push({ desc: QuotaFailureSchema, value: { violations: quotaViolations.map(({ subject, description }) => ({ subject, description })) } });
  }
  return new ConnectError(error.message, CODES[error.code], undefined, details, error);
}

/**
 * INVALID_ARGUMENT with a google.rpc.BadRequest naming each field, for requests the transports
 * refuse before any handler sees them (a body that cannot be read as its message). An empty
 * field means the body as a whole, as Google's APIs name a body that is not JSON.
 */
export function badRequest(message: string, violations: readonly FieldViolation[]): ConnectError {
  return new ConnectError(message, Code.InvalidArgument, undefined, [
    { desc: BadRequestSchema, value: { fieldViolations: violations.map(({ field, description }) => ({ field, description })) } },
  ]);
}

/** A ConnectError as a google.rpc.Status message, details packed in Any. */
export function toStatus(error: ConnectError): Status {
  return create(StatusSchema, {
    code: error.code,
    message: error.rawMessage,
    details: error.details.map((detail) =>
      'desc' in detail
        ? anyPack(detail.desc, create(detail.desc, detail.value))
        : { typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value },
    ),
  });
}

/**
 * The binary google.rpc.Status that gRPC carries in the `grpc-status-details-bin` trailer;
 * Connect writes it itself, the grpc-js adapter uses this.
 */
export function statusDetailsBin(error: ConnectError): Uint8Array {
  return toBinary(StatusSchema, toStatus(error));
}
