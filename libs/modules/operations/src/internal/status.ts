/**
 * The operation state machine. Status only moves forward:
 *   PENDING -> PROCESSING -> COMPLETED | FAILED
 *   PENDING -> CANCELLED
 * PROCESSING -> PROCESSING records what a kind prepared before applying (an exchange's rate).
 * Steps back, none of them undoing an effect:
 * - PROCESSING -> PENDING: a worker releasing what it could not finish (shutdown), so the
 *   next owner of the partition picks it up in order; or a multi-stage operation (a transfer)
 *   handed to the partition of its next stage, its earlier stages committed. Such a later
 *   stage is in flight, not pending: clients see it PROCESSING and cannot cancel it;
 * - FAILED -> PENDING: an operator requeueing an operation that failed only because it ran out
 *   of retries (error RETRIES_EXHAUSTED), never a business failure; it resumes at its stage.
 * PostgreSQL enforces the same machine with a trigger (operations-0002, 0003, 0004).
 */

export const OPERATION_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export const OPERATION_KINDS = ['TRANSACTION', 'TRANSFER', 'EXCHANGE'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

const NEXT: Readonly<Record<OperationStatus, readonly OperationStatus[]>> = {
  PENDING: ['PROCESSING', 'CANCELLED'],
  PROCESSING: ['PROCESSING', 'COMPLETED', 'FAILED', 'PENDING'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export function canTransition(from: OperationStatus, to: OperationStatus): boolean {
  return NEXT[from].includes(to);
}

/** The error code of an operation that failed only for lack of retries; only these may be requeued. */
export const RETRIES_EXHAUSTED = 'RETRIES_EXHAUSTED';

export function isTerminal(status: OperationStatus): boolean {
  return NEXT[status].length === 0;
}

/** Throws when a change would break the state machine: a bug, never a user error. */
export function assertTransition(from: OperationStatus, to: OperationStatus): void {
  if (!canTransition(from, to)) throw new Error(`operation status cannot move from ${from} to ${to}`);
}
