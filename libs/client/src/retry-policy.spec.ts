import { Code, ConnectError } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_RETRY_LIMITS, isTransient, nextRetryDelayMs, retryLimits } from './retry-policy.js';
import { TallyError } from './tally-error.js';

const limits = DEFAULT_RETRY_LIMITS;
const lowest = () => 0;
const highest = () => 0.999_999;

describe('isTransient', () => {
  it.each([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted])('is true for %s: the same call may succeed later', (code) => {
    expect(isTransient(new ConnectError('x', code))).toBe(true);
    expect(isTransient(new TallyError('x', code))).toBe(true);
  });

  it.each([
    Code.InvalidArgument,
    Code.NotFound,
    Code.AlreadyExists,
    Code.FailedPrecondition,
    Code.PermissionDenied,
    Code.Unauthenticated,
    Code.Internal,
    Code.Unknown,
    Code.Canceled,
  ])('is false for %s: calling again cannot help', (code) => {
    expect(isTransient(new TallyError('x', code))).toBe(false);
  });

  it("is true for fetch()'s network failure, a bare TypeError", () => {
    expect(isTransient(new TypeError('fetch failed'))).toBe(true);
    expect(isTransient(new Error('boom'))).toBe(false);
    expect(isTransient('boom')).toBe(false);
  });
});

describe('backoffDelayMs', () => {
  it('doubles from backoffBaseMs and stops at backoffCapMs', () => {
    const lows = Array.from({ length: 12 }, (_, i) => backoffDelayMs(i + 1, limits, undefined, highest));
    expect(lows.slice(0, 6)).toEqual([100, 200, 400, 800, 1_600, 3_200]);
    expect(lows.slice(6)).toEqual(Array(6).fill(5_000));
  });

  it('jitters between half and all of the exponential delay', () => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const full = Math.min(limits.backoffCapMs, limits.backoffBaseMs * 2 ** (attempt - 1));
      expect(backoffDelayMs(attempt, limits, undefined, lowest)).toBe(full / 2);
      const random = backoffDelayMs(attempt, limits);
      expect(random).toBeGreaterThanOrEqual(full / 2);
      expect(random).toBeLessThanOrEqual(full);
    }
  });

  it("waits at least the server's RetryInfo delay, but never past retryInfoDelayCapMs", () => {
    expect(backoffDelayMs(1, limits, 2_500, lowest)).toBe(2_500);
    expect(backoffDelayMs(1, limits, 10 * 60_000, lowest)).toBe(limits.retryInfoDelayCapMs);
    expect(backoffDelayMs(8, limits, 10, lowest)).toBe(2_500);
  });

  it('stays finite however many attempts failed', () => {
    expect(backoffDelayMs(10_000, limits, undefined, highest)).toBe(limits.backoffCapMs);
  });
});

describe('nextRetryDelayMs', () => {
  const unavailable = new TallyError('down', Code.Unavailable);

  it('retries a transient failure until attemptsMax tries have failed, then gives up', () => {
    const delays = Array.from({ length: limits.attemptsMax }, (_, i) => nextRetryDelayMs(unavailable, i + 1, limits, lowest));
    expect(delays.slice(0, -1).every((d) => typeof d === 'number')).toBe(true);
    expect(delays.at(-1)).toBeUndefined();
  });

  it('gives up at once on a final failure', () => {
    expect(nextRetryDelayMs(new TallyError('bad', Code.InvalidArgument), 1, limits)).toBeUndefined();
  });

  it('honours the RetryInfo a TallyError carries', () => {
    const busy = new TallyError('busy', Code.ResourceExhausted, { retryDelayMs: 1_234 });
    expect(nextRetryDelayMs(busy, 1, limits, lowest)).toBe(1_234);
  });
});

describe('retryLimits', () => {
  it('applies overrides to the defaults', () => {
    expect(retryLimits({ attemptsMax: 3 })).toEqual({ ...DEFAULT_RETRY_LIMITS, attemptsMax: 3 });
  });

  it.each([{ attemptsMax: 0 }, { attemptsMax: 1.5 }, { backoffBaseMs: -1 }, { backoffCapMs: Number.NaN }, { backoffBaseMs: 10, backoffCapMs: 5 }])(
    'refuses %o',
    (overrides) => {
      expect(() => retryLimits(overrides)).toThrow(expect.objectContaining({ code: Code.InvalidArgument, reason: 'OPTIONS_INVALID' }));
    },
  );
});
