import type { Applier, Preparer } from '@tally/platform';
import type { OperationKind } from '../status.js';

/**
 * Which module applies which kind: the wiring gives the worker an applier per kind, and a
 * preparer for the kinds that settle something first (the contract is in @tally/platform's
 * async-operations). A multi-stage operation (a transfer) answers a hand-off instead of an end:
 * this stage's effects commit, and the operation moves to the named ledger's partition, where
 * its next stage runs in that ledger's order.
 */
export type Appliers = Readonly<Partial<Record<OperationKind, Applier>>>;

export type Preparers = Readonly<Partial<Record<OperationKind, Preparer>>>;
