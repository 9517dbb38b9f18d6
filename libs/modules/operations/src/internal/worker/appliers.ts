import type { SqlTransaction } from '@tally/platform';
import type { OperationKind } from '../status.js';
import type { BalanceChange, OperationError, OperationStep } from '../types.js';

/**
 * How operations' effects are applied: other modules provide an applier per kind (ledgers:
 * TRANSACTION). An applier takes a run of operations of its kind, in acceptance order, inside
 * the worker's transaction, and answers one outcome per operation: their effects commit
 * together with the operations' new statuses, or not at all.
 *
 * A multi-stage operation (a transfer) answers a hand-off instead of an end: this stage's
 * effects commit, and the operation moves to the named ledger's partition, where its next
 * stage runs in that ledger's order. A refused stage leaves no effect of its own, except
 * a compensating one, which lists the balance changes it made.
 */

/** An operation a worker holds (PROCESSING), as the applier sees it. */
export interface ClaimedOperation {
  readonly id: string;
  readonly kind: OperationKind;
  readonly ledgerId: string;
  readonly transactionId: string;
  /** The request as accepted (JSON; bigints as strings). */
  readonly request: Readonly<Record<string, unknown>>;
  readonly partition: number;
  /** A transfer's target ledger; null for other kinds. */
  readonly toLedgerId: string | null;
  /** The stage to run: 0 first; later ones as handed off. */
  readonly stage: number;
  /** What the previous stage handed on. */
  readonly progress: Readonly<Record<string, unknown>>;
}

export interface ApplyContext {
  /** The worker's transaction: the applier's statements run in it. */
  readonly tx: SqlTransaction;
  /** Which shard of the per-currency system accounts this worker books against (its partition). */
  readonly shard: number;
}

/** Where a multi-stage operation goes next. */
export interface HandOff {
  /** Greater than the stage that ran. */
  readonly stage: number;
  /** The ledger in whose partition, and order, the next stage runs. */
  readonly ledgerId: string;
  /** Carried to the next stage (JSON-safe). */
  readonly progress: Readonly<Record<string, unknown>>;
}

export type ApplyOutcome =
  /** Applied: COMPLETED, or, with `handOff`, in flight towards the next stage. */
  | { readonly ok: true; readonly balanceChanges: readonly BalanceChange[]; readonly steps?: readonly OperationStep[]; readonly handOff?: HandOff }
  /** A business failure: final, never retried; `balanceChanges` only for a compensating stage. */
  | { readonly ok: false; readonly error: OperationError; readonly steps?: readonly OperationStep[]; readonly balanceChanges?: readonly BalanceChange[] };

export type Applier = (context: ApplyContext, operations: readonly ClaimedOperation[]) => Promise<readonly ApplyOutcome[]>;

export type Appliers = Readonly<Partial<Record<OperationKind, Applier>>>;

/**
 * What a kind may settle before its operations are applied, in a transaction of its own that
 * holds no balance: an exchange locks its rate (asking the rate provider if need be, so that a
 * slow provider never holds a ledger's accounts). The preparation commits as a version of the
 * operation (its steps and progress), and the applier then reads it from `progress`. Operations
 * already prepared (resumed after a crash, requeued) are not prepared again: the preparer sees
 * their progress and answers null for them.
 */
export interface Preparation {
  readonly steps: readonly OperationStep[];
  /** Merged into the operation's progress. */
  readonly progress: Readonly<Record<string, unknown>>;
}

export type Preparer = (tx: SqlTransaction, operations: readonly ClaimedOperation[]) => Promise<ReadonlyArray<Preparation | null>>;

export type Preparers = Readonly<Partial<Record<OperationKind, Preparer>>>;
