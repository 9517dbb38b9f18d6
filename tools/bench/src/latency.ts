/**
 * Latencies in log-spaced buckets: memory is fixed however long a run lasts or however many
 * requests it makes, and a percentile read from the buckets is within BUCKET_GROWTH of the
 * exact one (1%), finer than the noise of any run.
 */

/** Smallest latency told apart from zero: 1 µs. */
export const MIN_LATENCY_MS = 0.001;
/** Largest latency told apart: 10 minutes; longer ones count in the last bucket. */
export const MAX_LATENCY_MS = 600_000;
/** Each bucket's upper bound is this factor above the one before: the relative error bound. */
export const BUCKET_GROWTH = 1.01;

const LOG_GROWTH = Math.log(BUCKET_GROWTH);
const BUCKETS = Math.ceil(Math.log(MAX_LATENCY_MS / MIN_LATENCY_MS) / LOG_GROWTH) + 1;

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sumMs = 0;
  #minMs = Infinity;
  #maxMs = -Infinity;

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const value = Math.max(ms, 0);
    this.#counts[bucketOf(value)]! += 1;
    this.#count += 1;
    this.#sumMs += value;
    if (value < this.#minMs) this.#minMs = value;
    if (value > this.#maxMs) this.#maxMs = value;
  }

  get count(): number {
    return this.#count;
  }

  get meanMs(): number {
    return this.#count === 0 ? NaN : this.#sumMs / this.#count;
  }

  get maxMs(): number {
    return this.#count === 0 ? NaN : this.#maxMs;
  }

  /**
   * The latency that `p` percent of the samples are at or below (nearest rank), read as the
   * upper bound of the bucket holding that rank, so never an understatement by more than the
   * bucket width. NaN when nothing was recorded.
   */
  percentile(p: number): number {
    if (this.#count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen < rank) continue;
      // The last bucket is open-ended: what it holds is only bounded by the largest sample.
      return i === BUCKETS - 1 ? this.#maxMs : Math.min(Math.max(upperBoundOf(i), this.#minMs), this.#maxMs);
    }
    return this.#maxMs;
  }
}

function bucketOf(ms: number): number {
  if (ms <= MIN_LATENCY_MS) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_LATENCY_MS) / LOG_GROWTH));
}

function upperBoundOf(bucket: number): number {
  return MIN_LATENCY_MS * Math.exp(bucket * LOG_GROWTH);
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution: for durations only. */
export function nowMs(): number {
  return performance.now();
}
