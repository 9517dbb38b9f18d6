import { describe, expect, it } from 'vitest';
import { figuresOf, meets, TARGETS, type Figure } from './figures.js';
import { fullResults } from './results.testing.js';

const byKey = (figures: Figure[]) => new Map(figures.map((f) => [f.key, f]));

describe('figuresOf', () => {
  it("turns every phase's results into figures, each target on the figure the brief sets it for", () => {
    const figures = byKey(figuresOf(fullResults()));
    expect(figures.get('baseline_tps')?.value).toBe(1_500);
    expect(figures.get('single64_completed_per_s')).toMatchObject({ value: 1_600, throughput: true, target: TARGETS.single64Completed });
    expect(figures.get('batched_completed_per_s')?.target).toEqual(TARGETS.batchedCompleted);
    expect(figures.get('open_p99_ms')).toMatchObject({ value: 12, target: TARGETS.halfPeakSubmitP99Ms });
    expect(figures.get('open_completed_p99_ms')).toMatchObject({ value: 80, target: TARGETS.halfPeakCompletedP99Ms });
    expect(figures.get('balances_per_s')?.target).toEqual(TARGETS.balancesPerS);
    expect(figures.get('balances_p99_ms')?.target).toEqual(TARGETS.balancesP99Ms);
    expect(figures.get('watches_held')).toMatchObject({ value: 5_000, target: TARGETS.watchesHeld });
    expect(figures.get('rss_peak_mb')).toMatchObject({ value: 380, target: TARGETS.rssPeakMb });
    expect(figures.get('rss_after_watches_mb')?.value).toBe(260);
    expect(figures.has('soak_growth_mb_per_10_min')).toBe(false);
  });

  it('leaves out what did not run', () => {
    expect(figuresOf({ baseline: { tps: 1_000, source: 'pgbench' } }).map((f) => f.key)).toEqual(['baseline_tps']);
    expect(figuresOf({ rss: { peakMb: 100, atPhaseEndMb: {} } }).map((f) => f.key)).toEqual(['rss_peak_mb']);
  });
});

describe('meets', () => {
  const figure = (value: number, target: Figure['target']): Figure => ({ key: 'k', label: 'k', value, unit: 'per_s', target });

  it('compares throughputs with a multiple of the baseline', () => {
    expect(meets(figure(1_500, TARGETS.single64Completed), 1_500)).toBe(true);
    expect(meets(figure(1_499, TARGETS.single64Completed), 1_500)).toBe(false);
    expect(meets(figure(5_999, TARGETS.batchedCompleted), 1_500)).toBe(false);
    expect(meets(figure(6_000, TARGETS.batchedCompleted), 1_500)).toBe(true);
    expect(meets(figure(6_000, TARGETS.batchedCompleted), undefined)).toBeUndefined();
  });

  it('compares the others with the number itself, a missing measurement never meeting it', () => {
    expect(meets(figure(10, TARGETS.halfPeakSubmitP99Ms), undefined)).toBe(true);
    expect(meets(figure(10.01, TARGETS.halfPeakSubmitP99Ms), undefined)).toBe(false);
    expect(meets(figure(Number.NaN, TARGETS.halfPeakSubmitP99Ms), undefined)).toBe(false);
    expect(meets(figure(1, undefined), 1_500)).toBeUndefined();
  });
});
