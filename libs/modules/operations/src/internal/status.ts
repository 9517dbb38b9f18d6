/**
 * The operation state machine. Status only moves forward:
 *   PENDING -> PROCESSING -> COMPLETED | FAILED
 *   PENDING -> CANCELLED
 * (PROCESSING -> PENDING is the one step back: a worker releasing an operation it could not
 * finish, for example on shutdown, so another worker picks it up in order.)
 */

export const OPERATION_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export const OPERATION_KINDS = ['TRANSACTION', 'TRANSFER', 'EXCHANGE'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

const NEXT: Readonly<Record<OperationStatus, readonly OperationStatus[]>> = {
  PENDING: ['PROCESSING', 'CANCELLED'],
  PROCESSING: ['COMPLETED', 'FAILED', 'PENDING'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export function canTransition(from: OperationStatus, to: OperationStatus): boolean {
  return NEXT[from].includes(to);
}

export function isTerminal(status: OperationStatus): boolean {
  return NEXT[status].length === 0;
}

/** Throws when a change would break the state machine: a bug, never a user error. */
export function assertTransition(from: OperationStatus, to: OperationStatus): void {
  if (!canTransition(from, to)) throw new Error(`operation status cannot move from ${from} to ${to}`);
}
