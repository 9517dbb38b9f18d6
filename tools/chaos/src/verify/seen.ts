/**
 * What Tally shows after the run, read through its API, in plain shapes the checks take (and
 * their tests can write by hand).
 */

export type SeenStatus = 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'UNSPECIFIED';
export type SeenKind = 'TRANSACTION' | 'TRANSFER' | 'EXCHANGE' | 'UNSPECIFIED';

export interface SeenBalanceChange {
  readonly ledgerId: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly balanceAfter: bigint;
}

export interface SeenOperation {
  readonly id: string;
  readonly kind: SeenKind;
  readonly status: SeenStatus;
  readonly ledgerId: string;
  /** A transfer's target; empty otherwise. */
  readonly toLedgerId: string;
  readonly transactionId: string;
  readonly errorCode: string | undefined;
  readonly errorDetails: Readonly<Record<string, string>>;
  readonly balanceChanges: readonly SeenBalanceChange[];
}

export interface SeenEntry {
  /** Increasing in the order entries were written. */
  readonly id: bigint;
  readonly ledgerId: string;
  readonly operationId: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly balanceAfter: bigint;
}

export interface Seen {
  /** Every operation on the run's ledgers, by id. */
  readonly operations: ReadonlyMap<string, SeenOperation>;
  /** Each ledger's entries, in id order. */
  readonly entries: ReadonlyMap<string, readonly SeenEntry[]>;
  /** Each ledger's balances, by currency. */
  readonly balances: ReadonlyMap<string, ReadonlyMap<string, bigint>>;
}

export const TERMINAL: ReadonlySet<SeenStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
