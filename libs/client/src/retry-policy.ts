import { Code, ConnectError } from '@connectrpc/connect';
import { clientError, TallyError } from './tally-error.js';

/** How hard submitAndWait tries; each step (the submit, following the operation) has its own count. */
export interface RetryLimits {
  /** Tries of one step before it gives up, the first one included. */
  readonly attemptsMax: number;
  /** The wait after the first failed try; it doubles with every further one... */
  readonly backoffBaseMs: number;
  /** ...up to this. */
  readonly backoffCapMs: number;
  /** A server's RetryInfo delay is waited out up to this long, never longer. */
  readonly retryInfoDelayCapMs: number;
}

/**
 * 12 tries over about 30 s of backoff (0.1, 0.2, 0.4 ... 5, 5 s, less jitter): long enough to
 * ride out a Tally restart, short of submitAndWait's default timeout of 60 s.
 */
export const DEFAULT_RETRY_LIMITS: RetryLimits = Object.freeze({
  attemptsMax: 12,
  backoffBaseMs: 100,
  backoffCapMs: 5_000,
  retryInfoDelayCapMs: 30_000,
});

/**
 * Codes after which the same call may succeed: the server was away, slow or busy, or (ABORTED)
 * lost a race with concurrent work and changed nothing, which Tally says may simply be retried.
 */
const TRANSIENT_CODES: ReadonlySet<Code> = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted]);

/**
 * True when calling again (with the same transaction id) may succeed: UNAVAILABLE (network
 * failures included: the client reports them so), DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED.
 * Everything else (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, ...) is final.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof ConnectError) return TRANSIENT_CODES.has(error.code);
  return isNetworkFailure(error);
}

/** fetch() rejects with a TypeError, and only then, when the request never got an answer. */
export function isNetworkFailure(error: unknown): boolean {
  return error instanceof TypeError;
}

/**
 * The wait after `failedAttempts` failed tries (1 or more): exponential from backoffBaseMs,
 * capped at backoffCapMs, with equal jitter (between half and all of it, so that many clients
 * thrown off at once do not come back at once), and never shorter than the server's RetryInfo
 * asked, itself capped at retryInfoDelayCapMs.
 */
export function backoffDelayMs(failedAttempts: number, limits: RetryLimits, retryDelayMs?: number, random: () => number = Math.random): number {
  const exponentialMs = Math.min(limits.backoffCapMs, limits.backoffBaseMs * 2 ** Math.max(0, failedAttempts - 1));
  const jitteredMs = Math.round(exponentialMs / 2 + (random() * exponentialMs) / 2);
  const askedMs = Math.min(retryDelayMs ?? 0, limits.retryInfoDelayCapMs);
  return Math.max(jitteredMs, askedMs);
}

/** After a failed try: how long to wait before the next one, or undefined to give up with `error`. */
export function nextRetryDelayMs(error: unknown, failedAttempts: number, limits: RetryLimits, random: () => number = Math.random): number | undefined {
  if (!isTransient(error) || failedAttempts >= limits.attemptsMax) return undefined;
  return backoffDelayMs(failedAttempts, limits, error instanceof TallyError ? error.retryDelayMs : undefined, random);
}

/** Limits with overrides, checked: an unworkable limit is a loud failure, not a silent hang. */
export function retryLimits(overrides: Partial<RetryLimits> = {}): RetryLimits {
  const limits = { ...DEFAULT_RETRY_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < (name === 'attemptsMax' ? 1 : 0)) {
      throw optionsInvalid(`retry.${name} must be a whole number${name === 'attemptsMax' ? ' of at least 1' : ' of ms, 0 or more'}, got ${value}`);
    }
  }
  if (limits.backoffCapMs < limits.backoffBaseMs) throw optionsInvalid(`retry.backoffCapMs (${limits.backoffCapMs}) is below retry.backoffBaseMs (${limits.backoffBaseMs})`);
  return Object.freeze(limits);
}

function optionsInvalid(message: string) {
  return clientError(message, Code.InvalidArgument, 'OPTIONS_INVALID');
}
