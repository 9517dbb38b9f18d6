/** The ledgers module's public domain types (what its facade speaks). */

export interface Ledger {
  readonly id: string;
  readonly name: string;
  /** Enabled currencies, in the order they were enabled. */
  readonly currencies: readonly string[];
  readonly overdraftAllowed: boolean;
  readonly createTime: Date;
  readonly updateTime: Date;
}

export interface Balance {
  readonly currency: string;
  /** Minor units. */
  readonly amount: bigint;
  readonly exponent: number;
}

export interface Entry {
  readonly id: string;
  readonly ledgerId: string;
  readonly operationId: string;
  readonly transactionId: string;
  readonly currency: string;
  /** Signed minor units: positive in, negative out. */
  readonly amount: bigint;
  readonly balanceAfter: bigint;
  readonly createTime: Date;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}
