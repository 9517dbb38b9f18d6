import { money } from '@tally/currencies';
import { describe, expect, it } from 'vitest';
import { decideBookings, ledgerAccountKey, systemAccountKey, type Booking, type Leg, type LockedAccount, type LockedBooks } from './decide.js';

const A = '0190a000-0000-7000-8000-00000000000a';
const B = '0190a000-0000-7000-8000-00000000000b';

function account(id: string, balance: bigint, options: Partial<LockedAccount> = {}): LockedAccount {
  return { id, balance, enabled: true, overdraftAllowed: false, ...options };
}

/** Ledger A holds 100 EUR and 0 USD (disabled), ledger B 50 EUR with overdraft; system accounts at zero. */
function books(overrides: { a?: Partial<LockedAccount>; external?: bigint } = {}): LockedBooks {
  return {
    ledger: new Map([
      [ledgerAccountKey(A, 'EUR'), account('1', 100n, overrides.a)],
      [ledgerAccountKey(A, 'USD'), account('2', 0n, { enabled: false })],
      [ledgerAccountKey(B, 'EUR'), account('3', 50n, { overdraftAllowed: true })],
    ]),
    system: new Map([
      [systemAccountKey('EXTERNAL', 'EUR'), account('10', overrides.external ?? 0n, { overdraftAllowed: true })],
      [systemAccountKey('EXTERNAL', 'USD'), account('11', 0n, { overdraftAllowed: true })],
      [systemAccountKey('TRANSIT', 'EUR'), account('12', 0n, { overdraftAllowed: true })],
      [systemAccountKey('TRANSIT', 'USD'), account('13', 0n, { overdraftAllowed: true })],
    ]),
  };
}

let n = 0;
const booking = (...legs: Leg[]): Booking => ({ operationId: `op-${++n}`, transactionId: `t-${n}`, legs });
const leg = (ledgerId: string, currency: string, delta: bigint, extra: Partial<Leg> = {}): Leg => ({ ledgerId, currency, delta, counterparty: 'EXTERNAL', ...extra });

describe('booking decisions', () => {
  it('books a credit as a posting whose two entries sum to zero', () => {
    const decision = decideBookings(books(), [booking(leg(A, 'EUR', 25n))]);
    expect(decision.results).toEqual([{ ok: true, balanceChanges: [{ ledgerId: A, currency: 'EUR', amount: 25n, balanceAfter: 125n }] }]);
    const [posting] = decision.postings;
    expect(posting).toMatchObject({ delta: 25n, ledgerBalanceAfter: 125n, systemBalanceAfter: -25n });
    expect(decision.balances).toEqual(new Map([['1', 125n], ['10', -25n]]));
  });

  it('refuses a debit beyond the balance without overdraft, and allows it with overdraft', () => {
    const decision = decideBookings(books(), [booking(leg(A, 'EUR', -101n)), booking(leg(B, 'EUR', -80n))]);
    expect(decision.results[0]).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_FUNDS', details: { balance: '100', amount: '101' } } });
    expect(decision.results[1]).toMatchObject({ ok: true, balanceChanges: [{ balanceAfter: -30n }] });
    expect(decision.postings).toHaveLength(1);
  });

  it('lets later operations see the balances earlier ones left', () => {
    const decision = decideBookings(books(), [booking(leg(A, 'EUR', -60n)), booking(leg(A, 'EUR', -60n)), booking(leg(A, 'EUR', 10n))]);
    expect(decision.results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(decision.balances.get('1')).toBe(50n);
  });

  it("books all of an operation's legs or none of them", () => {
    // The second leg overdraws: the first, which alone would hold, is not booked either.
    const decision = decideBookings(books(), [booking(leg(A, 'EUR', 10n), leg(A, 'EUR', -200n)), booking(leg(A, 'EUR', -100n))]);
    expect(decision.results[0]).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_FUNDS' } });
    expect(decision.results[1]).toMatchObject({ ok: true, balanceChanges: [{ balanceAfter: 0n }] });
  });

  it('refuses a currency not enabled (or without an account), but never a restore of money that left', () => {
    const decision = decideBookings(books(), [
      booking(leg(A, 'USD', 5n)),
      booking(leg(B, 'USD', 5n)),
      booking(leg(A, 'USD', 5n, { counterparty: 'TRANSIT', restore: true })),
    ]);
    expect(decision.results[0]).toMatchObject({ ok: false, error: { code: 'CURRENCY_NOT_ENABLED', details: { ledger_id: A, currency: 'USD' } } });
    expect(decision.results[1]).toMatchObject({ ok: false, error: { code: 'CURRENCY_NOT_ENABLED', details: { ledger_id: B } } });
    expect(decision.results[2]).toMatchObject({ ok: true, balanceChanges: [{ balanceAfter: 5n }] });
  });

  it("refuses a ledger's balance leaving int64", () => {
    const nearTop = decideBookings(books({ a: { balance: money.INT64_MAX - 1n } }), [booking(leg(A, 'EUR', 2n)), booking(leg(A, 'EUR', 1n))]);
    expect(nearTop.results[0]).toMatchObject({ ok: false, error: { code: 'BALANCE_OUT_OF_RANGE', details: { ledger_id: A, currency: 'EUR', amount: '2' } } });
    expect(nearTop.results[1]).toMatchObject({ ok: true, balanceChanges: [{ balanceAfter: money.INT64_MAX }] });
    const overdrawn = decideBookings(books({ a: { balance: money.INT64_MIN + 1n, overdraftAllowed: true } }), [booking(leg(A, 'EUR', -2n)), booking(leg(A, 'EUR', -1n))]);
    expect(overdrawn.results.map((r) => r.ok)).toEqual([false, true]);
    expect(overdrawn.balances.get('1')).toBe(money.INT64_MIN);
  });

  it("never refuses a ledger because of the system account's balance: it goes past int64 as far as the ledgers take it", () => {
    // The shard's EXTERNAL account already holds another ledger's int64 max credit.
    const decision = decideBookings(books({ external: money.INT64_MIN + 1n }), [
      booking(leg(A, 'EUR', 1n)),
      booking(leg(B, 'EUR', money.INT64_MAX - 50n)),
      booking(leg(A, 'EUR', -101n)),
    ]);
    expect(decision.results.map((r) => r.ok)).toEqual([true, true, true]);
    const beyond = money.INT64_MIN - money.INT64_MAX;
    expect(decision.postings.map((p) => [p.ledgerBalanceAfter, p.systemBalanceAfter])).toEqual([
      [101n, money.INT64_MIN],
      [money.INT64_MAX, beyond + 50n],
      [0n, beyond + 151n],
    ]);
    expect(decision.balances.get('10')).toBe(beyond + 151n);
  });

  it('passes a refusal decided earlier through untouched, writing nothing', () => {
    const refused = { ok: false as const, error: { code: 'MALFORMED_REQUEST', message: 'x', details: {} } };
    const decision = decideBookings(books(), [{ refused }]);
    expect(decision.results).toEqual([refused]);
    expect(decision.postings).toEqual([]);
  });

  it('fails loudly on what only a bug can ask: a restore that debits, a restore to no account, a system account not locked', () => {
    expect(() => decideBookings(books(), [booking(leg(A, 'EUR', -1n, { restore: true }))])).toThrow(/restore leg must be a credit/);
    expect(() => decideBookings(books(), [booking(leg(B, 'USD', 1n, { restore: true, counterparty: 'TRANSIT' }))])).toThrow(/has no USD account/);
    expect(() => decideBookings(books(), [booking(leg(A, 'EUR', 1n, { counterparty: 'FX' }))])).toThrow(/no FX EUR system account/);
  });
});
