/**
 * Operations: the tracked state of every async request (status, version, steps, result,
 * error, attempts), its state machine, the partition queues, the worker that applies
 * operations in per-ledger order, and the status feed watchers follow. Owns the PostgreSQL
 * schema `operations`. What an operation does to balances is not known here: the module that
 * owns each kind checks it, records it through this module's facade (its intake port) and
 * provides its applier. A process opens the module with `openOperations`.
 */
import type { ModuleSchema } from '@tally/platform';
import { operationsMigrations } from './internal/migrations.js';
import { operationsEntities } from './internal/schema.js';

export { openOperations } from './internal/operations-module.js';
export type { OperationsModule, OperationsModuleDeps, WorkerOptions } from './internal/operations-module.js';
export type { OperationsFacade } from './internal/facade.js';
export { MAX_ACCEPT_BATCH } from './internal/accept.js';
export type { AcceptOutcome, OperationSpec } from './internal/accept.js';
export { MAX_AUDIT_PAGE } from './internal/audit-view.js';
export type { AuditedOperation } from './internal/audit-view.js';
export type {
  BalanceChange,
  LedgerEvent,
  ListOperationsInput,
  Operation,
  OperationError,
  OperationResult,
  OperationStep,
} from './internal/types.js';
export { OPERATION_STATUSES, RETRIES_EXHAUSTED, canTransition, isTerminal, TRANSITIONS } from './internal/status.js';
export type { OperationKind, OperationState, OperationStatus, Transition } from './internal/status.js';
export { partitionOf } from './internal/partition.js';
export type { OperationWatcher, WatchOptions } from './internal/feed/watch.js';
export type { OperationsWorker, WorkerLimits } from './internal/worker/operations-worker.js';
export type { Appliers, Preparers } from './internal/worker/appliers.js';

export const operationsSchema: ModuleSchema = {
  name: 'operations',
  entities: operationsEntities,
  migrations: operationsMigrations,
};
