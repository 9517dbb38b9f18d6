import type { TallyError } from './errors.js';
import type { SqlTransaction } from './sql.js';
import type { RequestOrigin } from './tenancy.js';

/**
 * The contract of an async use case (a credit, a transfer, an exchange), between the module that
 * owns it and the operations module that records, orders and drives it:
 *
 *   check   (sync, in the request) the owning module checks the request and hands it to its
 *           `OperationIntake` port, which records it PENDING and answers the operation;
 *   prepare (worker, optional) what the kind settles before applying, in a commit of its own;
 *   apply   (worker, in per-ledger order) the owning module's `Applier` books the effects,
 *           inside the worker's transaction, and answers one `ApplyOutcome` per operation.
 *
 * The owning modules never import the operations module: they declare these ports, and the
 * wiring plugs the operations module into them. Amounts are bigint; JSON-safe payloads carry
 * them as decimal strings.
 */

/** An async request, checked, as the owning module asks to record it. */
export interface OperationRequest<Kind extends string = string> {
  readonly kind: Kind;
  readonly ledgerId: string;
  /** A transfer's target ledger: the operation is listed and streamed on it too. */
  readonly toLedgerId?: string;
  readonly transactionId: string;
  /** The tenant of the ledger(s) it acts on, recorded with it; null when auth is off. */
  readonly tenant: string | null;
  /** JSON-safe and canonical (fixed key order, sorted metadata): a retry must hash the same. */
  readonly request: Readonly<Record<string, unknown>>;
  /** The RPC that submitted it (its scope's origin), kept with it; not part of its identity. */
  readonly origin?: RequestOrigin | undefined;
}

/** One request's answer: the operation recorded (or found, for a retry), or why not. */
export type Admission<Operation> = { readonly ok: true; readonly operation: Operation } | { readonly ok: false; readonly error: TallyError };

/** The port a module accepts its async use cases through (the operations module, plugged in by the wiring). */
export interface OperationIntake<Kind extends string, Operation> {
  /** One admission per request, in order; committed before it resolves. */
  accept(requests: ReadonlyArray<OperationRequest<Kind>>): Promise<ReadonlyArray<Admission<Operation>>>;
}

export interface OperationStep {
  readonly name: string;
  readonly status: 'PENDING' | 'COMPLETED' | 'FAILED';
  readonly time: Date;
}

export interface OperationError {
  /** Stable reason, for example INSUFFICIENT_FUNDS. */
  readonly code: string;
  readonly message: string;
  readonly details: Readonly<Record<string, string>>;
}

export interface BalanceChange {
  readonly ledgerId: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly balanceAfter: bigint;
}

/** An operation a worker holds (PROCESSING), as the module applying it sees it. */
export interface OperationToApply {
  readonly id: string;
  readonly ledgerId: string;
  /** A transfer's target ledger; null for other kinds. */
  readonly toLedgerId: string | null;
  readonly transactionId: string;
  /** The request as accepted (JSON; bigints as strings). */
  readonly request: Readonly<Record<string, unknown>>;
  /** The stage to run: 0 first; later ones as handed off. */
  readonly stage: number;
  /** What the previous stage, or the preparation, handed on. */
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

/**
 * Applies a run of operations of one kind, in acceptance order, inside the worker's
 * transaction: one outcome each. Their effects commit together with the operations' new
 * statuses, or not at all. Throwing retries the whole run (a bug or a transient fault).
 */
export type Applier = (context: ApplyContext, operations: readonly OperationToApply[]) => Promise<readonly ApplyOutcome[]>;

/**
 * What a kind settles before its operations are applied, in a transaction of its own that
 * holds no balance (an exchange locks its rate, asking the rate provider if need be, so that a
 * slow provider never holds a ledger's accounts). It commits as a version of the operation,
 * and the applier then reads it from `progress`.
 */
export interface Preparation {
  readonly steps: readonly OperationStep[];
  /** Merged into the operation's progress. */
  readonly progress: Readonly<Record<string, unknown>>;
}

/** One preparation per operation, or null for one already prepared (resumed after a crash, requeued). */
export type Preparer = (tx: SqlTransaction, operations: readonly OperationToApply[]) => Promise<ReadonlyArray<Preparation | null>>;
