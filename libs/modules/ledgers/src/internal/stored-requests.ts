import { money } from '@tally/currencies';
import type { OperationToApply } from '@tally/platform';
import type { BookingResult } from './booking/decide.js';

/**
 * Reading requests back from an operation: they were checked when accepted, but the worker
 * still reads them as untrusted JSON (a row written by another version, or altered since).
 */

/** A stored amount: a positive decimal string within int64. */
export function isStoredAmount(amount: unknown): amount is string {
  return typeof amount === 'string' && /^[1-9]\d{0,18}$/.test(amount) && money.isInt64(BigInt(amount));
}

export function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((x) => typeof x === 'string');
}

/** The refusal of a request this version cannot read: final, since retrying cannot help. */
export function malformedRequest(op: OperationToApply): BookingResult {
  return {
    ok: false,
    error: { code: 'MALFORMED_REQUEST', message: `operation ${op.id} holds a request this version cannot apply`, details: { request: JSON.stringify(op.request).slice(0, 200) } },
  };
}
