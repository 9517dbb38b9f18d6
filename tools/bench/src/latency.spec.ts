import { describe, expect, it } from 'vitest';
import { BUCKET_GROWTH, LatencyHistogram, MIN_LATENCY_MS } from './latency.js';

/** The exact nearest-rank percentile of a list. */
const exact = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
};

describe('LatencyHistogram', () => {
  it('reads percentiles within one bucket (1%) of the exact ones, never below them', () => {
    // A long-tailed spread, like real latencies: mostly a few ms, some hundreds.
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const values = Array.from({ length: 50_000 }, () => (random() < 0.95 ? 1 + random() * 9 : 50 + random() * 950));
    const histogram = new LatencyHistogram();
    values.forEach((v) => histogram.record(v));
    for (const p of [1, 50, 90, 95, 99, 99.9, 100]) {
      const want = exact(values, p);
      const got = histogram.percentile(p);
      expect(got, `p${p}`).toBeGreaterThanOrEqual(want);
      expect(got, `p${p}`).toBeLessThanOrEqual(want * BUCKET_GROWTH);
    }
    expect(histogram.count).toBe(values.length);
    expect(histogram.maxMs).toBe(Math.max(...values));
  });

  it('answers the value itself for a single sample, and NaN for none', () => {
    const one = new LatencyHistogram();
    one.record(3.7);
    expect(one.percentile(50)).toBe(3.7);
    expect(one.percentile(99)).toBe(3.7);
    expect(new LatencyHistogram().percentile(50)).toBeNaN();
    expect(new LatencyHistogram().meanMs).toBeNaN();
  });

  it('separates a slow tail from the bulk', () => {
    const histogram = new LatencyHistogram();
    for (let i = 0; i < 990; i++) histogram.record(2);
    for (let i = 0; i < 10; i++) histogram.record(500);
    expect(histogram.percentile(99)).toBeCloseTo(2, 1);
    expect(histogram.percentile(99.5)).toBeCloseTo(500, -1);
    expect(histogram.meanMs).toBeCloseTo(6.98, 2);
  });

  it('counts zero, sub-microsecond and beyond-range latencies without losing them', () => {
    const histogram = new LatencyHistogram();
    histogram.record(0);
    histogram.record(0.0001);
    histogram.record(10 * 60 * 60 * 1000);
    histogram.record(Number.NaN);
    expect(histogram.count).toBe(3);
    expect(histogram.percentile(100)).toBe(10 * 60 * 60 * 1000);
    // Below the resolution, a latency reads as the resolution: 1 µs.
    expect(histogram.percentile(1)).toBe(MIN_LATENCY_MS);
  });
});
