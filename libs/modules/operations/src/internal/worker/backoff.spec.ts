import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';

describe('backoffDelayMs', () => {
  const policy = { baseDelayMs: 50, maxDelayMs: 5_000, maxAttempts: 8 };

  it('doubles the ceiling with each retry', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4].map((r) => backoffDelayMs(r, policy, top))).toEqual([49, 99, 199, 399]);
  });

  it('never exceeds the cap, however many retries', () => {
    for (const retry of [8, 20, 1000]) expect(backoffDelayMs(retry, policy, () => 0.999999)).toBeLessThan(5_000);
  });

  it('jitters over the whole range, down to zero', () => {
    expect(backoffDelayMs(5, policy, () => 0)).toBe(0);
    const seen = new Set(Array.from({ length: 200 }, () => backoffDelayMs(6, DEFAULT_BACKOFF)));
    expect(seen.size).toBeGreaterThan(50);
  });

  it('refuses a retry number below 1', () => {
    expect(() => backoffDelayMs(0, policy)).toThrow(RangeError);
  });
});
