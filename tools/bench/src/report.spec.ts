import { describe, expect, it } from 'vitest';
import { figuresOf, TARGETS } from './figures.js';
import { figuresJson, formatRatio, formatTable, formatTarget, formatValue } from './report.js';
import { fullResults } from './results.testing.js';

describe('formatting figures', () => {
  it('writes each unit the way it is read', () => {
    expect(formatValue(1234.6, 'per_s')).toBe('1,235/s');
    expect(formatValue(3.456, 'ms')).toBe('3.46 ms');
    expect(formatValue(45.67, 'ms')).toBe('45.7 ms');
    expect(formatValue(1234.5, 'ms')).toBe('1,235 ms');
    expect(formatValue(215.04, 'mb')).toBe('215.0 MB');
    expect(formatValue(5000, 'count')).toBe('5,000');
    expect(formatValue(87.4, 'pct')).toBe('87%');
    expect(formatValue(2.25, 's')).toBe('2.3 s');
    expect(formatValue(Number.NaN, 'ms')).toBe('n/a');
  });

  it('shows a throughput as a multiple of the baseline', () => {
    expect(formatRatio(105, 1_500)).toBe('0.07×');
    expect(formatRatio(6_300, 1_500)).toBe('4.20×');
    expect(formatRatio(30_000, 1_500)).toBe('20.0×');
    expect(formatRatio(100, undefined)).toBe('');
  });

  it('writes targets as the brief does', () => {
    expect(formatTarget(TARGETS.single64Completed, 'per_s')).toBe('≥ 1.0× baseline');
    expect(formatTarget(TARGETS.batchedCompleted, 'per_s')).toBe('≥ 4.0× baseline');
    expect(formatTarget(TARGETS.balancesPerS, 'per_s')).toBe('≥ 5,000/s');
    expect(formatTarget(TARGETS.halfPeakSubmitP99Ms, 'ms')).toBe('≤ 10.0 ms');
    expect(formatTarget(TARGETS.rssPeakMb, 'mb')).toBe('≤ 400.0 MB');
  });
});

describe('formatTable', () => {
  const results = fullResults();
  const table = formatTable(figuresOf(results), 1_500, [['audit', 'passed']]);
  const row = (label: string) => table.split('\n').find((line) => line.startsWith(label))!;

  it('puts value, ratio, target and verdict on the row of each figure', () => {
    expect(row('single submits, 64 in flight: completed/s').split(/\s{2,}/)).toEqual([
      'single submits, 64 in flight: completed/s',
      '1,600/s',
      '1.07×',
      '≥ 1.0× baseline',
      'met',
    ]);
    expect(row('batched submits').length).toBeGreaterThan(0);
    expect(table).toMatch(/batched submits \(100 a call, 8 calls in flight\) ops: completed\/s\s+3,000\/s\s+2\.00×\s+≥ 4\.0× baseline\s+MISSED/);
    expect(row('GetBalances: p99').split(/\s{2,}/)).toEqual(['GetBalances: p99', '11.0 ms', '≤ 10.0 ms', 'MISSED']);
    expect(table.split('\n').at(-1)).toBe('audit: passed');
  });

  it('aligns the columns', () => {
    const lines = table.split('\n');
    const valueEnd = lines[1]!.split('  ').slice(0, 2).join('  ').length;
    for (const line of lines.slice(2, -1)) expect(line[valueEnd - 1], line).not.toBe(' ');
    expect(lines.slice(2, -1).every((line) => line.length <= lines[1]!.length)).toBe(true);
  });

  it('says n/a for a target relative to a baseline that was not measured', () => {
    const without = formatTable(figuresOf({ ...results, baseline: undefined }), undefined);
    expect(without).toMatch(/single submits, 64 in flight: completed\/s\s+1,600\/s\s+≥ 1\.0× baseline\s+n\/a/);
  });
});

describe('figuresJson', () => {
  it('keeps every figure as a number (null when not measured) and every target with its verdict', () => {
    const results = fullResults();
    const { figures, targets } = figuresJson(figuresOf({ ...results, open: { ...results.open!, completionMs: { p50: Number.NaN, p99: 80 } } }), 1_500);
    expect(figures['single64_completed_per_s']).toBe(1_600);
    expect(figures['open_completed_p50_ms']).toBeNull();
    expect(targets['single64_completed_per_s']).toEqual({ target: '≥ 1.0× baseline', met: true });
    expect(targets['balances_p99_ms']).toEqual({ target: '≤ 10.0 ms', met: false });
  });
});
