import { describe, expect, it } from 'vitest';
import { debitAmount, MIXED_DEBIT_SHARE, MIXED_EXCHANGE_SHARE, MIXED_TRANSFER_SHARE, mixedKind, newRunId, phasePrefix } from './workload.js';

describe('the workload', () => {
  it('draws the mix in the shares it names', () => {
    const counts = { credit: 0, debit: 0, transfer: 0, exchange: 0 };
    const draws = 10_000;
    for (let i = 0; i < draws; i++) counts[mixedKind(i / draws)] += 1;
    expect(counts.exchange / draws).toBeCloseTo(MIXED_EXCHANGE_SHARE, 3);
    expect(counts.transfer / draws).toBeCloseTo(MIXED_TRANSFER_SHARE, 3);
    expect(counts.debit / draws).toBeCloseTo(MIXED_DEBIT_SHARE, 3);
    expect(counts.credit / draws).toBeCloseTo(0.6, 3);
  });

  it('makes run ids that fit in a transaction id and tell runs apart', () => {
    const a = newRunId(1_700_000_000_000, () => 0.1);
    const b = newRunId(1_700_000_000_000, () => 0.9);
    expect(a).toMatch(/^[a-z0-9]+$/);
    expect(a).not.toBe(b);
    expect(newRunId(1_800_000_000_000, () => 0.1) > a).toBe(true);
    expect(`${phasePrefix(a, 'single64')}123456789`).toMatch(/^[A-Za-z0-9\-_.:]{1,128}$/);
  });

  it('draws debits from a cent to ten million dollars', () => {
    const amounts = Array.from({ length: 2_000 }, debitAmount);
    expect(amounts.every((a) => a >= 1n && a <= 1_000_000_000n)).toBe(true);
    expect(amounts.some((a) => a < 1_000n)).toBe(true);
    expect(amounts.some((a) => a > 10_000_000n)).toBe(true);
  });
});
