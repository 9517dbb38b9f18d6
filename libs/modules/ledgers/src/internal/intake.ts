import type { OperationIntake } from '@tally/platform';

/** The kinds of async operation the ledgers module owns. */
export type LedgersOperationKind = 'TRANSACTION' | 'TRANSFER';

/**
 * The port the ledgers module records its async use cases through: the operations module,
 * plugged in by the wiring. `Operation` is whatever it answers; the module only passes it on.
 */
export type LedgersIntake<Operation> = OperationIntake<LedgersOperationKind, Operation>;
