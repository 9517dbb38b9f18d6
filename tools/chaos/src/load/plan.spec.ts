import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.js';
import { BelievedBalances, CURRENCIES, MIX, planSubmit } from './plan.js';

const LEDGERS = ['A', 'B', 'C'];

function plans(seed: number, n: number, believed = new BelievedBalances()) {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => planSubmit(random, 'A', LEDGERS, believed, `t${i}`));
}

describe('the load plan', () => {
  it('mixes credits, debits, transfers and exchanges in the stated shares', () => {
    const all = plans(1, 10_000);
    for (const [kind, share] of MIX) {
      expect(all.filter((p) => p.kind === kind).length / all.length).toBeCloseTo(share, 1);
    }
  });

  it('is the same for the same seed', () => {
    expect(plans(5, 50)).toEqual(plans(5, 50));
  });

  it('transfers to another ledger, exchanges between two currencies, some of them quoted', () => {
    const all = plans(2, 2_000);
    expect(all.filter((p) => p.kind === 'TRANSFER').every((p) => p.toLedgerId !== 'A' && LEDGERS.includes(p.toLedgerId!))).toBe(true);
    const exchanges = all.filter((p) => p.kind === 'EXCHANGE');
    expect(exchanges.every((p) => p.toCurrency !== p.currency && CURRENCIES.includes(p.toCurrency as 'USD'))).toBe(true);
    expect(exchanges.some((p) => p.wantsQuote) && exchanges.some((p) => !p.wantsQuote)).toBe(true);
  });

  it('sizes money out against the believed balance, so that some of it overdraws', () => {
    const believed = new BelievedBalances();
    for (const c of CURRENCIES) believed.add('A', c, 10_000n);
    const out = plans(3, 2_000, believed).filter((p) => p.kind === 'DEBIT');
    expect(out.every((p) => p.amount >= 4_000n && p.amount <= 20_000n)).toBe(true);
    expect(out.some((p) => p.amount > 10_000n)).toBe(true);
    expect(out.some((p) => p.amount <= 10_000n)).toBe(true);
  });

  it('believes acknowledged operations complete, and never below zero', () => {
    const believed = new BelievedBalances();
    believed.acknowledge({ kind: 'CREDIT', ledgerId: 'A', transactionId: 't1', currency: 'USD', amount: 100n });
    believed.acknowledge({ kind: 'TRANSFER', ledgerId: 'A', toLedgerId: 'B', transactionId: 't2', currency: 'USD', amount: 30n });
    believed.acknowledge({ kind: 'EXCHANGE', ledgerId: 'A', transactionId: 't3', currency: 'USD', toCurrency: 'EUR', amount: 500n }, 7n);
    expect([believed.get('A', 'USD'), believed.get('B', 'USD'), believed.get('A', 'EUR')]).toEqual([0n, 30n, 7n]);
  });
});
