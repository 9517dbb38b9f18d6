/**
 * The operation state machine: the one table of the moves an operation's status may make, who
 * makes each, and the condition some of them need. An operation is accepted PENDING
 * (operations.accept); every later status write asserts its move here first, in memory.
 *
 * PostgreSQL enforces the same machine with the trigger operations.check_operation_change (its
 * current definition is migration operations-0009). test/state-machine.test.ts tries every move,
 * in every case a condition reads, on that trigger and fails when the two disagree: a change
 * here needs a new migration there, and the other way round. (The trigger is not generated from
 * this table: a migration is history and must not change when the table does.) The trigger
 * also keeps what is not a status move: identity columns, the version (one up per change), the
 * stage (never back), and a pruned row's status.
 */

export const OPERATION_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export const OPERATION_KINDS = ['TRANSACTION', 'TRANSFER', 'EXCHANGE'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** The error code of an operation that failed only for lack of retries; only these may be requeued. */
export const RETRIES_EXHAUSTED = 'RETRIES_EXHAUSTED';

/**
 * What the machine reads of an operation before a move: its status, and what a condition
 * needs. A field left out is not known, and a condition on it never holds: a caller asserts
 * only what it knows. An OperationRow is one.
 */
export interface OperationState {
  readonly id?: string;
  readonly status: OperationStatus;
  /** The stage it is at, 0 for the first. */
  readonly stage?: number;
  /** What it FAILED with; null when it has no error. */
  readonly error?: { readonly code: string } | null;
}

export interface Transition {
  readonly from: OperationStatus;
  readonly to: OperationStatus;
  /** Who makes the move, and why it undoes nothing. */
  readonly by: string;
  /** When set, the move is allowed only where `holds` is true of the operation before it. */
  readonly only?: { readonly when: string; readonly holds: (before: OperationState) => boolean };
}

/** Every move there is; any other (including staying PENDING, or leaving COMPLETED or CANCELLED) is refused. */
export const TRANSITIONS: readonly Transition[] = [
  { from: 'PENDING', to: 'PROCESSING', by: "a worker claiming it, in its partition's acceptance order" },
  {
    from: 'PENDING',
    to: 'CANCELLED',
    by: 'a client, before anything of it was applied',
    // A later stage waits PENDING in its next partition with its earlier stages committed (a
    // transfer's debit): it is in flight, clients see it PROCESSING.
    only: { when: 'at stage 0', holds: (before) => before.stage === 0 },
  },
  { from: 'PROCESSING', to: 'PROCESSING', by: "a worker recording what a kind settled before applying (an exchange's rate), as a version of its own" },
  { from: 'PROCESSING', to: 'COMPLETED', by: 'a worker, with its effects, in one transaction' },
  { from: 'PROCESSING', to: 'FAILED', by: 'a worker: a business failure, or RETRIES_EXHAUSTED when every try failed' },
  {
    from: 'PROCESSING',
    to: 'PENDING',
    by: "a worker releasing what it will not apply (shutdown), or handing a multi-stage operation to its next stage's partition",
  },
  {
    from: 'FAILED',
    to: 'PENDING',
    by: 'an operator requeueing it; it resumes at the stage that failed, of which nothing was applied',
    only: { when: `when it failed ${RETRIES_EXHAUSTED}, never for a business reason`, holds: (before) => before.error?.code === RETRIES_EXHAUSTED },
  },
];

/**
 * Where an operation ends, as clients see it: a watch stops there, and retention may prune it
 * (the only change a row in these statuses takes, keeping its status). FAILED is one although
 * an operator may requeue a RETRIES_EXHAUSTED failure: that is a new start, not a step a client
 * waits for.
 */
export const TERMINAL_STATUSES: readonly OperationStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export function isTerminal(status: OperationStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

function transition(from: OperationStatus, to: OperationStatus): Transition | undefined {
  return TRANSITIONS.find((t) => t.from === from && t.to === to);
}

/** Whether the operation, as it stands, may move to `to`. */
export function canTransition(before: OperationState, to: OperationStatus): boolean {
  const move = transition(before.status, to);
  return move !== undefined && (move.only === undefined || move.only.holds(before));
}

/** Throws when a status write would break the state machine: a bug, never a user error. */
export function assertTransition(before: OperationState, to: OperationStatus): void {
  if (canTransition(before, to)) return;
  const condition = transition(before.status, to)?.only;
  throw new Error(
    `operation ${before.id ?? '(any)'}: status cannot move from ${before.status} to ${to}` +
      (condition ? ` (only ${condition.when}; stage ${before.stage ?? 'unknown'}, error ${before.error === undefined ? 'unknown' : (before.error?.code ?? 'none')})` : ''),
  );
}
