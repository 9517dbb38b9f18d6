import { describe, expect, it } from 'vitest';
import { balancesHeld } from './order.js';
import type { SeenEntry } from './seen.js';

const entry = (id: number, balanceAfter: number): SeenEntry => ({ id: BigInt(id), ledgerId: 'L', operationId: `op-${id}`, currency: 'USD', amount: 0n, balanceAfter: BigInt(balanceAfter) });
const USD = [entry(2, 100), entry(5, 70), entry(9, 150), entry(12, 20)];

describe('the balances a ledger held between two of its operations', () => {
  it('from just after one entry to just before another', () => {
    expect([...balancesHeld(USD, 5n, 12n)]).toEqual([70n, 150n]);
    expect([...balancesHeld(USD, 6n, 9n)]).toEqual([70n]);
  });

  it('zero before its first entry; everything after when no operation follows', () => {
    expect([...balancesHeld(USD, 0n, 5n)]).toEqual([0n, 100n]);
    expect([...balancesHeld(USD, 9n, undefined)]).toEqual([150n, 20n]);
  });
});
