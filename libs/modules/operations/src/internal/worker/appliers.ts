import type { EntityManager } from '@mikro-orm/postgresql';
import type { OperationKind } from '../status.js';
import type { BalanceChange, OperationError, OperationStep } from '../types.js';

/**
 * How operations' effects are applied: other modules provide an applier per kind (ledgers:
 * TRANSACTION). An applier takes a run of operations of its kind, in acceptance order, inside
 * the worker's transaction, and answers one outcome per operation: their effects commit
 * together with the operations' new statuses, or not at all. An operation it refuses must
 * leave no effect.
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
}

export interface ApplyContext {
  /** The unit of work of the worker's transaction: run SQL with `em.execute`. */
  readonly em: EntityManager;
  /** Which shard of the per-currency system accounts this worker books against (its partition). */
  readonly shard: number;
}

export type ApplyOutcome =
  | { readonly ok: true; readonly balanceChanges: readonly BalanceChange[]; readonly steps?: readonly OperationStep[] }
  /** A business failure: final, never retried, with no effect. */
  | { readonly ok: false; readonly error: OperationError; readonly steps?: readonly OperationStep[] };

export type Applier = (context: ApplyContext, operations: readonly ClaimedOperation[]) => Promise<readonly ApplyOutcome[]>;

export type Appliers = Readonly<Partial<Record<OperationKind, Applier>>>;
