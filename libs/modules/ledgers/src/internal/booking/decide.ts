import { money } from '@tally/currencies';
import type { BalanceChange, OperationError } from '@tally/platform';

/**
 * The money decisions of booking, pure: given the accounts a batch touches (locked by the
 * caller, so nothing can change under it) and each operation's legs in acceptance order, decide
 * which operations book and what they write. No I/O: `book.ts` locks, calls this, and writes.
 *
 * Rules, per operation, all of its legs or none:
 * - each leg moves `delta` into the ledger's account and the opposite out of the shard's system
 *   account of its kind (EXTERNAL, FX, TRANSIT): a posting of two entries that sum to zero;
 * - the ledger's account must exist and be enabled, unless the leg restores money to where it
 *   came from (a restore is never refused for a currency disabled since);
 * - without overdraft, no debit may take the balance below zero;
 * - no ledger's balance may leave the int64 range (the API's, and its own limit);
 * - a system account's balance has no limit: it is the sum of what every ledger of the shard
 *   moved through it (N ledgers can hold N times int64 max between them, and flows in one
 *   shard and out of another grow it further still), so bounding it would let one ledger's
 *   activity refuse another's (issue #9). It is stored as an unbounded `numeric`
 *   (ledgers-0005); only the ledger side of a posting is ever shown to a caller;
 * - later legs and operations see the balances the earlier ones left.
 */

/** A movement of a booking: `delta` on the ledger's account, the opposite on the system account. */
export interface Leg {
  readonly ledgerId: string;
  readonly currency: string;
  /** Signed minor units: positive into the ledger. */
  readonly delta: bigint;
  /** The per-currency system account on the other side. */
  readonly counterparty: 'EXTERNAL' | 'FX' | 'TRANSIT';
  /** A compensating credit returning money to where it came from: applies even if the currency was disabled on the ledger since. Never a debit. */
  readonly restore?: boolean;
}

/** What one operation books: all its legs, or (refused before booking) nothing. */
export type Booking =
  | { readonly operationId: string; readonly transactionId: string; readonly legs: readonly Leg[] }
  | { readonly refused: BookingResult };

export type BookingResult =
  | { readonly ok: true; readonly balanceChanges: readonly BalanceChange[] }
  | { readonly ok: false; readonly error: OperationError };

/** An account as locked for the batch. */
export interface LockedAccount {
  readonly id: string;
  readonly balance: bigint;
  readonly enabled: boolean;
  readonly overdraftAllowed: boolean;
}

/** The accounts a batch may touch: ledger accounts by `ledgerAccountKey`, system accounts by `systemAccountKey`. */
export interface LockedBooks {
  readonly ledger: ReadonlyMap<string, LockedAccount>;
  readonly system: ReadonlyMap<string, LockedAccount>;
}

export const ledgerAccountKey = (ledgerId: string, currency: string): string => `${ledgerId}/${currency}`;
export const systemAccountKey = (kind: Leg['counterparty'], currency: string): string => `${kind}/${currency}`;

/** One booked leg: the two entries to write, in the batch's order. */
export interface Posting {
  readonly operationId: string;
  readonly transactionId: string;
  readonly ledgerId: string;
  readonly currency: string;
  readonly ledgerAccountId: string;
  readonly systemAccountId: string;
  /** Into the ledger's account; the system account takes the opposite. */
  readonly delta: bigint;
  readonly ledgerBalanceAfter: bigint;
  readonly systemBalanceAfter: bigint;
}

export interface BookingDecision {
  /** One per booking, in order. */
  readonly results: BookingResult[];
  readonly postings: Posting[];
  /** The final balance of every account a posting changed, by account id. */
  readonly balances: ReadonlyMap<string, bigint>;
}

export function decideBookings(books: LockedBooks, bookings: readonly Booking[]): BookingDecision {
  const balances = new Map<string, bigint>();
  const balanceOf = (a: LockedAccount): bigint => balances.get(a.id) ?? a.balance;
  const postings: Posting[] = [];
  const results = bookings.map((booking): BookingResult => {
    if ('refused' in booking) return booking.refused;
    // Check every leg against the balances as they would be after the earlier legs.
    const pending = new Map<LockedAccount, bigint>();
    const after = (a: LockedAccount): bigint => pending.get(a) ?? balanceOf(a);
    const resolved: Array<{ leg: Leg; account: LockedAccount; counter: LockedAccount }> = [];
    for (const leg of booking.legs) {
      if (leg.restore && leg.delta <= 0n) throw new Error(`a restore leg must be a credit: ${leg.delta} ${leg.currency} on ledger ${leg.ledgerId}`);
      const account = books.ledger.get(ledgerAccountKey(leg.ledgerId, leg.currency));
      const counter = books.system.get(systemAccountKey(leg.counterparty, leg.currency));
      if (!counter) throw new Error(`no ${leg.counterparty} ${leg.currency} system account was locked for operation ${booking.operationId}`);
      // Money returns to the account it left, which exists: anything else is a bug.
      if (!account && leg.restore) throw new Error(`restore leg of operation ${booking.operationId}: ledger ${leg.ledgerId} has no ${leg.currency} account`);
      if (!account || (!account.enabled && !leg.restore)) {
        return refuse('CURRENCY_NOT_ENABLED', `${leg.currency} is not enabled on ledger ${leg.ledgerId}`, { ledger_id: leg.ledgerId, currency: leg.currency });
      }
      const next = after(account) + leg.delta;
      const counterNext = after(counter) - leg.delta;
      if (!account.overdraftAllowed && next < 0n) {
        return refuse('INSUFFICIENT_FUNDS', `the ${leg.currency} balance ${after(account)} is less than the debit of ${-leg.delta}`, {
          ledger_id: leg.ledgerId,
          currency: leg.currency,
          balance: after(account).toString(),
          amount: (-leg.delta).toString(),
        });
      }
      if (!money.isInt64(next)) {
        return refuse('BALANCE_OUT_OF_RANGE', `the ${leg.currency} balance of ledger ${leg.ledgerId} would leave the int64 range`, {
          ledger_id: leg.ledgerId,
          currency: leg.currency,
          amount: leg.delta.toString(),
        });
      }
      pending.set(account, next);
      pending.set(counter, counterNext);
      resolved.push({ leg, account, counter });
    }
    // Every leg holds: book them, a posting each.
    const balanceChanges: BalanceChange[] = [];
    for (const { leg, account, counter } of resolved) {
      const ledgerBalanceAfter = balanceOf(account) + leg.delta;
      const systemBalanceAfter = balanceOf(counter) - leg.delta;
      balances.set(account.id, ledgerBalanceAfter);
      balances.set(counter.id, systemBalanceAfter);
      postings.push({
        operationId: booking.operationId,
        transactionId: booking.transactionId,
        ledgerId: leg.ledgerId,
        currency: leg.currency,
        ledgerAccountId: account.id,
        systemAccountId: counter.id,
        delta: leg.delta,
        ledgerBalanceAfter,
        systemBalanceAfter,
      });
      balanceChanges.push({ ledgerId: leg.ledgerId, currency: leg.currency, amount: leg.delta, balanceAfter: ledgerBalanceAfter });
    }
    return { ok: true, balanceChanges };
  });
  return { results, postings, balances };
}

function refuse(code: string, message: string, details: Record<string, string>): BookingResult {
  return { ok: false, error: { code, message, details } };
}
