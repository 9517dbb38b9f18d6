import type { Random } from '../random.js';

/**
 * When a submit counts as answered, and how a careful client retries one that was not: with
 * the same transaction id, backing off, up to a cap.
 *
 * Unanswered: the call says nothing about whether the operation was recorded (the process
 * died, the connection broke, the deadline passed, Tally could not reach its database, or it
 * shed the call). Every other status is an answer: OK acknowledges the operation; a refusal
 * (INVALID_ARGUMENT, FAILED_PRECONDITION, ...) says it was not recorded.
 */
export const UNANSWERED_CODES: ReadonlySet<string> = new Set([
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'CANCELLED',
  'UNKNOWN',
  'INTERNAL',
  'RESOURCE_EXHAUSTED',
  'ABORTED',
]);

export const isUnanswered = (code: string): boolean => UNANSWERED_CODES.has(code);

export interface RetryPolicy {
  readonly firstBackoffMs: number;
  readonly maxBackoffMs: number;
  /** After this long since the first try, the client gives up (the operation's fate unknown to it). */
  readonly giveUpAfterMs: number;
}

export const RETRY_POLICY: RetryPolicy = { firstBackoffMs: 50, maxBackoffMs: 2_000, giveUpAfterMs: 120_000 };

/** The pause before try `attempt + 1` (attempt counts from 1): doubling, capped, with jitter (half to all of it). */
export function backoffMs(attempt: number, random: Random, policy: RetryPolicy = RETRY_POLICY): number {
  const full = Math.min(policy.maxBackoffMs, policy.firstBackoffMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(full * (0.5 + random.next() / 2));
}
