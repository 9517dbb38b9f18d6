import type { Random } from '../random.js';

/**
 * What the clients submit, decided without I/O from the run's seed: credits, debits sized
 * against what the client believes the balance is (so that some overdraw and fail
 * INSUFFICIENT_FUNDS), transfers to any other ledger, and exchanges between the ledger's
 * currencies, half of them at a quoted rate.
 */

export const CURRENCIES = ['USD', 'EUR', 'JPY'] as const;

export type SubmitKind = 'CREDIT' | 'DEBIT' | 'TRANSFER' | 'EXCHANGE';

export interface PlannedSubmit {
  readonly kind: SubmitKind;
  /** The ledger it is submitted on (a transfer's source). */
  readonly ledgerId: string;
  /** A transfer's target. */
  readonly toLedgerId?: string;
  readonly transactionId: string;
  /** The currency moved (an exchange's source currency). */
  readonly currency: string;
  /** An exchange's target currency. */
  readonly toCurrency?: string;
  readonly amount: bigint;
  /** An exchange that asks for a quote first and submits with its id. */
  readonly wantsQuote?: boolean;
}

/** The share of each kind in the load, summing to 1. */
export const MIX: ReadonlyArray<readonly [SubmitKind, number]> = [
  ['CREDIT', 0.35],
  ['DEBIT', 0.25],
  ['TRANSFER', 0.2],
  ['EXCHANGE', 0.2],
];
const QUOTED_SHARE = 0.5;
/** Credits bring in 1.00 to 1,000.00 (in minor units). */
const CREDIT_MIN = 100;
const CREDIT_MAX = 100_000;
/**
 * Money out is drawn between these shares of the believed balance: above 1, it overdraws
 * unless money arrived that the client did not count (the belief errs low: it counts every
 * acknowledged debit as done, and an exchange at the current rate as bringing nothing).
 */
const OUT_SHARE_MIN = 0.4;
const OUT_SHARE_MAX = 2;
/** With nothing believed there, a small amount, which fails unless money arrived. */
const OUT_WHEN_EMPTY_MAX = 10_000;

/**
 * The client's belief about each balance: acknowledged money in added, acknowledged money out
 * taken away, as if every operation completed. Only used to size the next submit.
 */
export class BelievedBalances {
  readonly #balances = new Map<string, bigint>();

  get(ledgerId: string, currency: string): bigint {
    return this.#balances.get(`${ledgerId}/${currency}`) ?? 0n;
  }

  add(ledgerId: string, currency: string, delta: bigint): void {
    const next = this.get(ledgerId, currency) + delta;
    this.#balances.set(`${ledgerId}/${currency}`, next < 0n ? 0n : next);
  }

  /** What an acknowledged submit is believed to do; `credited` is an exchange's quoted amount, if known. */
  acknowledge(submit: PlannedSubmit, credited?: bigint): void {
    switch (submit.kind) {
      case 'CREDIT':
        return this.add(submit.ledgerId, submit.currency, submit.amount);
      case 'DEBIT':
        return this.add(submit.ledgerId, submit.currency, -submit.amount);
      case 'TRANSFER':
        this.add(submit.ledgerId, submit.currency, -submit.amount);
        return this.add(submit.toLedgerId!, submit.currency, submit.amount);
      case 'EXCHANGE':
        this.add(submit.ledgerId, submit.currency, -submit.amount);
        return this.add(submit.ledgerId, submit.toCurrency!, credited ?? 0n);
    }
  }
}

export function planSubmit(random: Random, ledgerId: string, allLedgers: readonly string[], believed: BelievedBalances, transactionId: string): PlannedSubmit {
  const kind = pickKind(random);
  const currency = random.pick(CURRENCIES);
  const out = (): bigint => {
    const balance = believed.get(ledgerId, currency);
    if (balance === 0n) return BigInt(random.int(1, OUT_WHEN_EMPTY_MAX));
    const share = OUT_SHARE_MIN + random.next() * (OUT_SHARE_MAX - OUT_SHARE_MIN);
    const amount = BigInt(Math.floor(Number(balance) * share));
    return amount > 0n ? amount : 1n;
  };
  switch (kind) {
    case 'CREDIT':
      return { kind, ledgerId, transactionId, currency, amount: BigInt(random.int(CREDIT_MIN, CREDIT_MAX)) };
    case 'DEBIT':
      return { kind, ledgerId, transactionId, currency, amount: out() };
    case 'TRANSFER': {
      const others = allLedgers.filter((id) => id !== ledgerId);
      return { kind, ledgerId, toLedgerId: random.pick(others), transactionId, currency, amount: out() };
    }
    case 'EXCHANGE': {
      const toCurrency = random.pick(CURRENCIES.filter((c) => c !== currency));
      return { kind, ledgerId, transactionId, currency, toCurrency, amount: out(), wantsQuote: random.chance(QUOTED_SHARE) };
    }
  }
}

function pickKind(random: Random): SubmitKind {
  let roll = random.next();
  for (const [kind, share] of MIX) {
    if (roll < share) return kind;
    roll -= share;
  }
  return MIX[MIX.length - 1]![0];
}
