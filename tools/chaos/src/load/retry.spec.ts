import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.js';
import { backoffMs, isUnanswered, RETRY_POLICY } from './retry.js';

describe('retrying unanswered submits', () => {
  it('retries what says nothing of the operation, and takes every other status as the answer', () => {
    expect(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'CANCELLED', 'UNKNOWN', 'INTERNAL', 'RESOURCE_EXHAUSTED', 'ABORTED'].every(isUnanswered)).toBe(true);
    expect(['OK', 'INVALID_ARGUMENT', 'NOT_FOUND', 'ALREADY_EXISTS', 'FAILED_PRECONDITION', 'PERMISSION_DENIED'].some(isUnanswered)).toBe(false);
  });

  it('backs off, doubling up to a cap, with jitter', () => {
    const random = seededRandom(9);
    const pauses = Array.from({ length: 12 }, (_, i) => backoffMs(i + 1, random));
    pauses.forEach((ms, i) => {
      const full = Math.min(RETRY_POLICY.maxBackoffMs, RETRY_POLICY.firstBackoffMs * 2 ** i);
      expect(ms).toBeGreaterThanOrEqual(full / 2);
      expect(ms).toBeLessThanOrEqual(full);
    });
    expect(backoffMs(1_000, random)).toBeLessThanOrEqual(RETRY_POLICY.maxBackoffMs);
  });
});
