/**
 * Retry timing for transient failures: capped exponential backoff with full jitter, so
 * workers that failed together do not retry together.
 */
export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Tries per operation for conflicts and unexpected errors before it ends FAILED RETRIES_EXHAUSTED. */
  readonly maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseDelayMs: 50, maxDelayMs: 5_000, maxAttempts: 8 };

/** Delay before retry number `retry` (1 for the first retry): uniform in [0, min(cap, base * 2^(retry-1))]. */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be a whole number >= 1, got ${retry}`);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
